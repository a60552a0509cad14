"""What storage is to its callers, whatever keeps the bytes: the ``Storage`` interface, and a
``Blob`` on its way to an HTTP client.

Callers speak in keys (``videos/<id>/144p.mp4``, built in ``transcoder.storage.layout``),
never in paths they build, and every write goes to a temporary name first, so a reader
never sees half a file and a task run twice leaves one complete result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from transcoder.errors import StorageError

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Blob:
    """One stored object, or a byte range of it, on its way to an HTTP client."""

    status: int  # 200, or 206 for a range
    length: int  # bytes in ``chunks``
    size: int  # bytes in the whole object
    content_range: str | None
    etag: str | None
    chunks: Iterator[bytes]
    close: Callable[[], None]


class Storage(Protocol):
    """What the web app and the workers need of storage, whatever keeps the bytes.

    Writers get a local temporary path and their output becomes visible only once
    complete; readers that run ffmpeg get a local file (``fetch``); the web app
    either sends a local file itself (``local_path``) or streams a ``Blob``.
    """

    def put_file(self, key: str, path: Path) -> None: ...
    def fetch(self, key: str) -> AbstractContextManager[Path]: ...
    def writing(self, key: str) -> AbstractContextManager[Path]: ...
    def writing_dir(self, prefix: str) -> AbstractContextManager[Path]: ...
    def discard_partials(self, prefix: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def delete_prefix(self, prefix: str) -> None: ...
    def size_of(self, prefix: str) -> int: ...
    def local_path(self, key: str) -> Path | None: ...
    def read(self, key: str, byte_range: str | None = None) -> Blob: ...
    def check(self) -> None: ...


def check_key(key: str) -> str:
    """Keys are ours (``videos/<hex id>/...``); refuse anything that could climb out of a prefix."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise StorageError(f"Refusing a storage key outside storage: {key!r}")
    return key
