"""Where uploads and renditions are kept.

Callers speak in keys (``videos/<id>/144p.mp4``), never in paths they build, and
every write goes to a temporary name first, so a reader never sees half a file
and a task run twice leaves one complete result.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .errors import StorageError

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
    def local_path(self, key: str) -> Path | None: ...
    def read(self, key: str, byte_range: str | None = None) -> Blob: ...
    def check(self) -> None: ...


def check_key(key: str) -> str:
    """Keys are ours (``videos/<hex id>/...``); refuse anything that could climb out of a prefix."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise StorageError(f"Refusing a storage key outside storage: {key!r}")
    return key


def video_prefix(video_id: str) -> str:
    """Everything one video owns."""
    return f"videos/{video_id}"


def source_key(video_id: str) -> str:
    return f"videos/{video_id}/source"


def rendition_key(video_id: str, name: str) -> str:
    return f"videos/{video_id}/{name}.mp4"


def hls_prefix(video_id: str, name: str) -> str:
    return f"videos/{video_id}/hls/{name}"


def part_prefix(video_id: str, name: str, part_id: str) -> str:
    """The HLS segments one part wrote for one rendition (or audio group ``name``)."""
    return f"{hls_prefix(video_id, name)}/{part_id}"


def tiles_prefix(video_id: str, part_id: str) -> str:
    """The storyboard tiles one part made, one JPEG each."""
    return f"videos/{video_id}/tiles/{part_id}"


def preview_key(video_id: str, filename: str) -> str:
    """``poster.jpg``, ``storyboard.jpg`` or ``storyboard.vtt``."""
    return f"videos/{video_id}/{filename}"


class LocalStorage:
    """Files under one directory; renames are atomic because temp files sit beside their target."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The file for ``key``; refuses any key that would leave the storage directory."""
        target = (self.root / check_key(key)).resolve()
        if not target.is_relative_to(self.root) or target == self.root:
            raise StorageError(f"Refusing a storage key outside storage: {key!r}")
        return target

    def put_file(self, key: str, path: Path) -> None:
        """Move a complete file into ``key`` (a rename when both sit on one file system)."""
        with self.writing(key) as tmp:
            shutil.move(path, tmp)

    @contextmanager
    def fetch(self, key: str) -> Iterator[Path]:
        """The stored file itself: it is already on this machine."""
        yield self._existing(key)

    def local_path(self, key: str) -> Path | None:
        return self._existing(key)

    def _existing(self, key: str) -> Path:
        path = self.path(key)
        if not path.is_file():
            raise StorageError(f"The stored file {key!r} is missing.")
        return path

    def read(self, key: str, byte_range: str | None = None) -> Blob:
        """The whole file (the web app sends local files itself, with ranges)."""
        path = self._existing(key)
        handle = open(path, "rb")  # noqa: SIM115 - closed by the Blob's reader
        size = path.stat().st_size
        return Blob(200, size, size, None, None, iter(lambda: handle.read(CHUNK), b""), handle.close)

    def check(self) -> None:
        """Raise unless the storage folder can be written (for /readyz)."""
        probe = self.root / f".ready.{uuid.uuid4().hex}.part"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise StorageError(f"The storage folder {self.root} cannot be written: {exc}") from exc

    @contextmanager
    def writing(self, key: str) -> Iterator[Path]:
        """Yield a temporary path; on success it becomes ``key`` in one rename, else it is removed."""
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.part")
        try:
            yield tmp
            if not tmp.exists():
                raise StorageError(f"Nothing was written for {key!r}.")
            try:
                os.replace(tmp, final)
            except OSError as exc:
                raise StorageError(f"The output {key!r} could not be stored: {exc.strerror}.") from exc
        finally:
            tmp.unlink(missing_ok=True)

    @contextmanager
    def writing_dir(self, prefix: str) -> Iterator[Path]:
        """Yield a temporary folder; on success it becomes ``prefix`` in one rename.

        If a complete copy is already there (an earlier run of the same task), it is
        kept and ours dropped: both hold the same result.
        """
        final = self.path(prefix)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.part")
        tmp.mkdir()
        try:
            yield tmp
            try:
                os.rename(tmp, final)
            except OSError as exc:
                if not final.is_dir():
                    raise StorageError(f"The output {prefix!r} could not be stored: {exc.strerror}.") from exc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def discard_partials(self, key: str) -> None:
        """Remove temporary copies of ``key`` that a killed writer left (or, for a folder
        key, any inside it); never a finished file.

        Only safe while nobody writes ``key``: callers hold its part's lease, or the
        video has ended.
        """
        final = self.path(key)
        leftovers = list(final.parent.glob(f".{final.name}.*.part"))
        if final.is_dir():
            leftovers += list(final.rglob(".*.part"))
        for leftover in leftovers:
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self.path(prefix), ignore_errors=True)
