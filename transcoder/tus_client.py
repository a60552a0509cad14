"""`transcoder submit`'s resumable upload: a tus 1.0 client of our own, over the requests
session ``client.Client`` already holds.

Why not tuspy: it would add aiohttp (and the half-dozen packages under it) and tinydb to
every installation for one command, and its defaults are not what a dropped connection
needs (no retries, a fixed 30 s delay; one PATCH for the whole file). What we need is
small: create the upload, PATCH it in chunks read from the file as they are sent, and when
a request fails ask the server (HEAD) how far it got and go on from there, after a growing
delay, a bounded number of times without progress. The URLs of unfinished uploads are kept
between runs by ``upload_urls``.

The pure parts (sizes, the metadata header, which answers are worth another try, the
delays) are functions of their own, unit-tested without a server.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO
from urllib.parse import urljoin

import requests

from transcoder.client import Client
from transcoder.errors import ApiError, InvalidInput
from transcoder.upload_urls import UrlStore, key_of

TUS_VERSION = "1.0.0"
MiB = 1024 * 1024
#: A drop loses at most what the server had not kept of one chunk; a chunk is one request.
DEFAULT_CHUNK = 50 * MiB
#: How much of the file is read at a time while a chunk is sent (never the file whole).
BLOCK = 1 * MiB
#: Seconds before each retry in a row that made no progress (about a minute in all); any
#: byte the server kept since the last failure starts the count again.
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0)
#: Tries of the creation after the first (its delays are RETRY_DELAYS' first ones).
CREATE_RETRIES = 2
#: Seconds to wait for the answer to a PATCH once its body is sent: the last one probes the file.
PATCH_READ_TIMEOUT = 300.0

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": MiB, "g": 1024 * MiB, "t": 1024 * 1024 * MiB}


def parse_size(text: str) -> int:
    """A chunk size as a person types it: ``52428800``, ``50M``, ``50MiB``, ``5mb``, ``1.5G``
    (binary units: ``M`` is 1024² bytes)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size (examples: 50M, 5MiB, 1048576)")
    size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if size < 1:
        raise ValueError(f"{text!r}: a chunk must hold at least one byte")
    return size


def metadata(filename: str, filetype: str | None = None) -> str:
    """The ``Upload-Metadata`` header: comma-separated ``key base64(value)`` pairs."""
    pairs = [("filename", filename)] + ([("filetype", filetype)] if filetype else [])
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode('ascii')}" for k, v in pairs)


def worth_retrying(status: int) -> bool:
    """Answers that say "not now" rather than "no": 409 (our offset was stale: ask again),
    423 (our previous PATCH is still being drained), 408/429, and the server's 5xx."""
    return status in (408, 409, 423, 429) or status >= 500


def upload_offset(headers: Mapping[str, str]) -> int:
    """The ``Upload-Offset`` of an answer, which the protocol requires to be a plain integer."""
    value = headers.get("Upload-Offset", "")
    if not value.isdigit():
        raise ApiError(f"the server sent no usable Upload-Offset ({value!r})", code="bad_tus_answer")
    return int(value)


def describe(n: int) -> str:
    return f"{n / MiB:.1f} MiB"


class Interrupted(Exception):
    """A request that failed for a passing reason: ask for the offset, wait, go on."""


class Window:
    """``length`` bytes of an open file from ``start``, read a block at a time as requests
    sends them; ``len()`` gives requests the Content-Length (so the body is not chunked)."""

    def __init__(self, fh: IO[bytes], start: int, length: int, sent: Callable[[int], None]) -> None:
        self.fh, self.start, self.length, self.sent = fh, start, length, sent
        #: time.monotonic() once the last block was handed to the connection.
        self.done_at: float | None = None

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[bytes]:
        self.fh.seek(self.start)
        done = 0
        while done < self.length:
            block = self.fh.read(min(BLOCK, self.length - done))
            if not block:
                raise InvalidInput("the file became shorter while it was being sent; send it again")
            done += len(block)
            yield block
            self.sent(self.start + done)
        self.done_at = time.monotonic()


class Uploader:
    """Sends one file to ``/api/uploads/`` and returns the id of the video it became."""

    def __init__(
        self,
        client: Client,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        store: UrlStore | None = None,
        delays: Sequence[float] = RETRY_DELAYS,
        progress: Callable[[int, int], None] = lambda sent, total: None,
        notice: Callable[[str], None] = lambda line: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.http = client, client.http
        self.chunk_size, self.store, self.delays = chunk_size, store, delays
        self.progress, self.notice, self.sleep = progress, notice, sleep
        #: Upload-Offset of every PATCH sent, in order (an empty file is sent by one empty PATCH).
        self.patched_at: list[int] = []
        #: Seconds from the latest PATCH's last byte handed to the connection to its answer.
        self.last_answer_seconds: float | None = None

    def _headers(self, **more: str) -> dict[str, str]:
        return {"Tus-Resumable": TUS_VERSION, **more}

    def upload(self, path: Path) -> str | None:
        """The new video's id; None when the server does not speak tus (no ``/api/uploads/``)."""
        size = path.stat().st_size
        entry = key_of(path, self.client.base) if self.store else ""
        url = self.store.get(entry) if self.store else None
        offset = self._resume_point(url, size) if url else None
        if url and offset is None and self.store:
            self.store.forget(entry)
        if url and offset is not None:
            self.notice(f"resuming {path.name} at {describe(offset)} of {describe(size)}")
        else:
            url = self._create(path.name, size)
            if url is None:
                return None
            offset = 0
            if self.store:
                self.store.put(entry, url)
        try:
            video_id = self._send(url, path, size, offset)
        except ApiError as exc:
            # Refused (not a video, over quota, expired...): the server has dropped it.
            if exc.code != "upload_interrupted" and self.store:
                self.store.forget(entry)
            raise
        if self.store:
            self.store.forget(entry)
        return video_id

    def _resume_point(self, url: str, size: int) -> int | None:
        """The server's offset of a remembered upload; None if it is gone or is another file's."""
        try:
            answer = self.http.head(url, headers=self._headers(), timeout=self.client.timeout)
        except requests.RequestException:
            return None  # a new upload is tried; if the server is down, that says so
        if answer.status_code in (403, 404, 410):
            return None
        self.client.check(answer)
        if answer.headers.get("Upload-Length") != str(size):
            return None
        return upload_offset(answer.headers)

    def _create(self, filename: str, size: int) -> str | None:
        endpoint = f"{self.client.base}/api/uploads/"
        headers = self._headers(**{"Upload-Length": str(size), "Upload-Metadata": metadata(filename)})
        # A few quick tries only: a server that is not there says so at once (and a creation
        # retried after a lost answer leaves an upload behind, holding quota until it expires).
        delays = self.delays[:CREATE_RETRIES]
        for attempt in range(len(delays) + 1):
            try:
                answer = self.http.post(endpoint, headers=headers, timeout=self.client.timeout)
            except (requests.ConnectionError, requests.Timeout):
                if attempt == len(delays):
                    raise
                self.sleep(delays[attempt])
                continue
            if answer.status_code == 404:
                return None
            if worth_retrying(answer.status_code) and attempt < len(delays):
                self.sleep(delays[attempt])
                continue
            self.client.check(answer)
            if answer.status_code != 201 or not answer.headers.get("Location"):
                raise ApiError(f"the server did not create the upload (HTTP {answer.status_code})",
                               code="bad_tus_answer")  # fmt: skip
            return urljoin(endpoint, answer.headers["Location"])
        raise AssertionError("unreachable")

    def _send(self, url: str, path: Path, size: int, offset: int | None) -> str:
        failures, best = 0, offset or 0
        with open(path, "rb") as fh:
            while True:
                try:
                    if offset is None:
                        offset = self._offset(url)
                        if offset > best:
                            failures, best = 0, offset
                    self.progress(offset, size)
                    if offset < size or (size == 0 and not self.patched_at):
                        offset, video_id = self._patch(
                            url, fh, offset, min(self.chunk_size, size - offset), size
                        )
                        failures, best = 0, max(best, offset)
                        self.progress(offset, size)
                        if video_id:
                            return video_id
                    else:
                        return self._video_id(url)
                except (requests.ConnectionError, requests.Timeout, Interrupted) as exc:
                    if failures >= len(self.delays):
                        raise ApiError(
                            f"the upload stopped at {describe(best)} of {describe(size)} after "
                            f"{failures + 1} tries ({_reason(exc)}); run the same command again to "
                            "go on from there",
                            code="upload_interrupted",
                        ) from exc
                    delay = self.delays[failures]
                    failures += 1
                    self.notice(f"{_reason(exc)}; trying again in {delay:g} s")
                    self.sleep(delay)
                    offset = None

    def _offset(self, url: str) -> int:
        answer = self.http.head(url, headers=self._headers(), timeout=self.client.timeout)
        if worth_retrying(answer.status_code):
            raise Interrupted(f"HEAD answered {answer.status_code}")
        if answer.status_code in (404, 410):  # a HEAD answer has no body to say why
            raise ApiError(
                "the server no longer has this upload (it expired or was deleted); run the same "
                "command again to start afresh",
                code="upload_gone",
            )
        self.client.check(answer)
        return upload_offset(answer.headers)

    def _patch(self, url: str, fh: IO[bytes], offset: int, length: int, size: int) -> tuple[int, str | None]:
        self.patched_at.append(offset)
        window = Window(fh, offset, length, lambda at: self.progress(at, size))
        headers = self._headers(
            **{"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
        )
        started = time.monotonic()
        answer = self.http.patch(
            url, data=window if length else b"", headers=headers,
            timeout=(self.client.timeout, PATCH_READ_TIMEOUT),
        )  # fmt: skip
        self.last_answer_seconds = time.monotonic() - (window.done_at or started)
        if worth_retrying(answer.status_code):
            raise Interrupted(f"PATCH answered {answer.status_code}")
        self.client.check(answer)
        return upload_offset(answer.headers), answer.headers.get("X-Video-Id") or None

    def _video_id(self, url: str) -> str:
        """Every byte is there but the last PATCH's answer was lost: the upload names its video."""
        answer = self.http.get(url, headers=self._headers(), timeout=self.client.timeout)
        if worth_retrying(answer.status_code):
            raise Interrupted(f"GET answered {answer.status_code}")
        video_id = self.client.check(answer).get("video_id")
        if not video_id:
            raise Interrupted("the server has every byte but no video yet")
        return str(video_id)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, requests.ConnectionError):
        return "the connection dropped"
    if isinstance(exc, requests.Timeout):
        return "the server did not answer in time"
    return str(exc)
