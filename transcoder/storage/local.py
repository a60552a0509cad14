"""Storage in a folder that every web process and worker sees (one machine, or a shared disk)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from transcoder.errors import StorageError, StoredFileMissing
from transcoder.storage.base import CHUNK, Blob, check_key


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
            raise StoredFileMissing(f"The stored file {key!r} is missing.")
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
            # Said without the folder's path: /readyz shows this to anyone who asks.
            raise StorageError(f"The storage folder cannot be written ({exc.strerror}).") from exc

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

    def size_of(self, prefix: str) -> int:
        """Bytes of every file under ``prefix`` (what a video keeps, for quotas)."""
        return sum(f.stat().st_size for f in self.path(prefix).rglob("*") if f.is_file())
