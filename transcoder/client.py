"""A small HTTP client of our own API, for the CLI (and for scripts)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from transcoder.errors import ApiError, InvalidInput

TERMINAL = {"ready", "failed", "canceled"}


class Client:
    def __init__(self, base_url: str, timeout: float = 30.0, api_key: str | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        if api_key:
            self.http.headers["Authorization"] = f"Bearer {api_key}"

    def check(self, response: requests.Response) -> Any:
        """The answer's JSON body; an error answer raised as ApiError with the server's code and
        message (so every command shows the server's own sentence)."""
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            err = body.get("error") or {}
            message = err.get("message") or f"HTTP {response.status_code}"
            raise ApiError(message, code=err.get("code", "http_error"))
        return body

    def upload(self, path: Path) -> dict[str, Any]:
        """One multipart ``POST /api/videos``, the file read as it is sent (requests' ``files=``
        would build the whole body in memory first)."""
        body = MultipartFile(path)
        response = self.http.post(
            f"{self.base}/api/videos", data=body, headers={"Content-Type": body.content_type}, timeout=None
        )
        return self.check(response)

    def video(self, video_id: str) -> dict[str, Any]:
        return self.check(self.http.get(f"{self.base}/api/videos/{video_id}", timeout=self.timeout))

    def delete(self, video_id: str) -> None:
        """Delete a video (canceling it first if it still runs), its files and its record."""
        response = self.http.delete(f"{self.base}/api/videos/{video_id}", timeout=self.timeout)
        if response.status_code != 204:
            self.check(response)

    def videos(self) -> list[dict[str, Any]]:
        return self.check(self.http.get(f"{self.base}/api/videos", timeout=self.timeout))["videos"]

    def follow(self, *video_ids: str) -> Iterator[dict[str, Any]]:
        """Yield snapshots of these videos from one event stream until all have ended.

        If the stream drops, it is opened again for the videos still running, sending the
        last event's id, and the server sends each one's current snapshot.
        """
        running, last_id = list(dict.fromkeys(video_ids)), ""
        seen: dict[str, int] = {}
        while running:
            try:
                for event_id, video in self._stream(running, last_id):
                    last_id = event_id or last_id
                    if video["seq"] <= seen.get(video["id"], 0):
                        continue
                    seen[video["id"]] = video["seq"]
                    yield video
                    if video["state"] in TERMINAL and video["id"] in running:
                        running.remove(video["id"])
                        if not running:
                            return
            except requests.RequestException:
                time.sleep(1)

    def _stream(self, video_ids: list[str], last_id: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
        headers = {"Last-Event-ID": last_id} if last_id else {}
        params = [("video", video_id) for video_id in video_ids]
        url = f"{self.base}/api/events"
        with self.http.get(
            url, params=params, headers=headers, stream=True, timeout=(self.timeout, 60)
        ) as response:
            if response.status_code != 200:
                self.check(response)
            lines: Iterator[str] = response.iter_lines(decode_unicode=True)  # type: ignore[assignment]
            for event, event_id, data in parse_sse(lines):
                if event == "video":
                    yield event_id, json.loads(data)


class MultipartFile:
    """A multipart/form-data body of one field, ``file``: its head, the file a megabyte at a
    time, its tail; ``len()`` gives requests the Content-Length (so the body is not chunked)."""

    BLOCK = 1024 * 1024

    def __init__(self, path: Path) -> None:
        self.path = path
        boundary = secrets.token_hex(16)
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self.head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{quoted(path.name)}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        self.tail = f"\r\n--{boundary}--\r\n".encode()
        self.size = path.stat().st_size

    def __len__(self) -> int:
        return len(self.head) + self.size + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        left = self.size
        with open(self.path, "rb") as fh:
            while left:
                block = fh.read(min(self.BLOCK, left))
                if not block:
                    raise InvalidInput("the file became shorter while it was being sent; send it again")
                left -= len(block)
                yield block
        yield self.tail


def quoted(name: str) -> str:
    """A file name inside a quoted header parameter, escaped as browsers (and urllib3) do."""
    return name.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def parse_sse(lines: Iterator[str]) -> Iterator[tuple[str, str, str]]:
    """Yield (event, id, data) for each event in a text/event-stream."""
    event, event_id, data = "message", "", list[str]()
    for line in lines:
        if line == "":
            if data:
                yield event, event_id, "\n".join(data)
            event, event_id, data = "message", "", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "id":
                event_id = value
            elif field == "data":
                data.append(value)
