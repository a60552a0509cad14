"""A small HTTP client of our own API, for the CLI (and for scripts)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from .errors import TranscoderError

TERMINAL = {"ready", "failed", "canceled"}


class ApiError(TranscoderError):
    """Raised when the server answers with an error; carries its code and message."""


class Client:
    def __init__(self, base_url: str, timeout: float = 30.0, api_key: str | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        if api_key:
            self.http.headers["Authorization"] = f"Bearer {api_key}"

    def _check(self, response: requests.Response) -> Any:
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
        with open(path, "rb") as fh:
            response = self.http.post(
                f"{self.base}/api/videos", files={"file": (path.name, fh)}, timeout=None
            )
        return self._check(response)

    def video(self, video_id: str) -> dict[str, Any]:
        return self._check(self.http.get(f"{self.base}/api/videos/{video_id}", timeout=self.timeout))

    def videos(self) -> list[dict[str, Any]]:
        return self._check(self.http.get(f"{self.base}/api/videos", timeout=self.timeout))["videos"]

    def follow(self, video_id: str) -> Iterator[dict[str, Any]]:
        """Yield snapshots from the event stream until the video ends, reconnecting if it drops."""
        while True:
            try:
                for video in self._stream(video_id):
                    yield video
                    if video["state"] in TERMINAL:
                        return
            except requests.RequestException:
                time.sleep(1)
            video = self.video(video_id)  # the stream ended or dropped: resync
            yield video
            if video["state"] in TERMINAL:
                return

    def _stream(self, video_id: str) -> Iterator[dict[str, Any]]:
        url = f"{self.base}/api/videos/{video_id}/events"
        with self.http.get(url, stream=True, timeout=(self.timeout, 60)) as response:
            if response.status_code != 200:
                self._check(response)
            for event, data in parse_sse(response.iter_lines(decode_unicode=True)):
                if event == "video":
                    yield json.loads(data)


def parse_sse(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """Yield (event, data) for each event in a text/event-stream."""
    event, data = "message", []
    for line in lines:
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
