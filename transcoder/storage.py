"""Where uploads and renditions are kept.

Callers speak in keys (``videos/<id>/144p.mp4``), never in paths they build, and
every write goes to a temporary name first, so a reader never sees half a file
and a task run twice leaves one complete result.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from .errors import StorageError

CHUNK = 1024 * 1024


class Storage(Protocol):
    def put_stream(self, key: str, stream: BinaryIO) -> int: ...
    def local_input(self, key: str) -> Path: ...
    def writing(self, key: str) -> AbstractContextManager[Path]: ...
    def writing_dir(self, prefix: str) -> AbstractContextManager[Path]: ...
    def discard_partials(self, prefix: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def delete_prefix(self, prefix: str) -> None: ...


def source_key(video_id: str) -> str:
    return f"videos/{video_id}/source"


def rendition_key(video_id: str, name: str) -> str:
    return f"videos/{video_id}/{name}.mp4"


def hls_prefix(video_id: str, name: str) -> str:
    return f"videos/{video_id}/hls/{name}"


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
        target = (self.root / key).resolve()
        if not target.is_relative_to(self.root) or target == self.root:
            raise StorageError(f"Refusing a storage key outside storage: {key!r}")
        return target

    def put_stream(self, key: str, stream: BinaryIO) -> int:
        """Copy ``stream`` into ``key`` chunk by chunk; returns the byte count."""
        with self.writing(key) as tmp:
            with open(tmp, "wb") as out:
                size = 0
                while chunk := stream.read(CHUNK):
                    out.write(chunk)
                    size += len(chunk)
        return size

    def local_input(self, key: str) -> Path:
        path = self.path(key)
        if not path.is_file():
            raise StorageError(f"The stored file {key!r} is missing.")
        return path

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
            os.replace(tmp, final)
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
            except OSError:
                if not final.is_dir():
                    raise
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
