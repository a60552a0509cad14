"""Where an unfinished resumable upload's bytes gather until its last byte: the ``Staging``
interface, ``LocalStaging`` (a file in the scratch folder, for one machine), and ``of``,
the one place that picks one for the storage in use.

With S3 storage a ``PATCH`` may reach any web machine, so the bytes must gather where all
of them reach: ``transcoder.uploads.s3_staging.S3Staging`` (one S3 multipart upload per
resumable upload). On one machine they gather beside the multipart uploads' scratch
folders, and the last byte's probe reads them there, as a multipart upload is read.

``LocalStaging`` keeps each upload in ``<scratch_dir>/resumable/<upload id>``: a folder
``storage.scratch.clean`` leaves alone (it removes only the folders of killed processes),
since an unfinished upload outlives the process that took its first bytes.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from transcoder.errors import ConfigError, InvalidInput, UploadGone
from transcoder.settings import Settings
from transcoder.storage.base import CHUNK, Storage
from transcoder.work.actions import Staged

FOLDER = "resumable"
_ID = re.compile(r"[0-9a-f]{32}")
#: How many bytes ``LocalStaging`` writes between two checkpoints: what a killed web
#: process loses of a PATCH at most (a catalog write per 4 MiB costs nothing measurable).
CHECKPOINT_BYTES = 4 * 1024**2

#: Called by ``Staging.append`` at a safe point: the first ``offset`` bytes are stored and
#: ``state`` names them, so the catalog may record them (``resumable`` does, while the lock
#: is still its own). It may raise (a revoked key, a lost lock): ``append`` then stops.
Checkpoint = Callable[[int, dict[str, Any]], None]


class Staging(Protocol):
    """Where an unfinished resumable upload's bytes gather, until its last byte."""

    def begin(self, upload_id: str) -> dict[str, Any]:
        """Room for a new upload. Returns what must be kept with it (JSON-able; stored in
        the upload's row, column `staging`, and handed back to every later call)."""
        ...

    def append(
        self,
        upload_id: str,
        state: dict[str, Any],
        offset: int,
        chunks: Iterable[bytes],
        checkpoint: Checkpoint | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Write `chunks` from `offset` (the upload's recorded offset; anything stored past
        it is dropped first). `chunks` simply ends early if the client's connection
        dropped (the web layer catches the read error): keep as much as can be kept
        (local: every byte; S3: every byte, whole parts as parts and the rest as the tail
        object) and return the new offset and state. `checkpoint`, if given, is called
        at each safe point as the bytes drain (local: every ``CHECKPOINT_BYTES``, flushed;
        S3: after each part), so a process killed mid-body loses only what came since."""
        ...

    def finish(
        self, upload_id: str, state: dict[str, Any], size: int, sha256: str | None
    ) -> AbstractContextManager[Staged]:
        """The complete upload as a `Staged`. `sha256` None: the hash's state was not in
        this process (PATCHes reached several processes): read the stored bytes once
        more to compute it. Leaving the `with` drops whatever `keep` did not take."""
        ...

    def discard(self, upload_id: str, state: dict[str, Any]) -> None:
        """Drop an unfinished upload's bytes (terminated or expired). Harmless twice."""
        ...


class LocalStaging:
    """Each upload is one file in ``<scratch_dir>/resumable/``; its state is empty."""

    def __init__(self, scratch_dir: Path, storage: Storage) -> None:
        self.root = Path(scratch_dir) / FOLDER
        self.storage = storage

    def path(self, upload_id: str) -> Path:
        if not _ID.fullmatch(upload_id):  # never a path out of the folder
            raise InvalidInput("Not an upload id.", code="not_found")
        return self.root / upload_id

    def begin(self, upload_id: str) -> dict[str, Any]:
        self.root.mkdir(parents=True, exist_ok=True)
        self.path(upload_id).touch()
        return {}

    def append(
        self,
        upload_id: str,
        state: dict[str, Any],
        offset: int,
        chunks: Iterable[bytes],
        checkpoint: Checkpoint | None = None,
    ) -> tuple[int, dict[str, Any]]:
        path = self.path(upload_id)
        with open(path, "r+b") as out:
            # No fsync per PATCH (it cost a third of the rate: 42 against 28 MiB/s in 50 MiB
            # PATCHes): a process that dies leaves its writes in the page cache, and a machine
            # that crashed before they reached the disk leaves the file shorter than its
            # recorded offset (the size is written after the data), which is caught here.
            if out.seek(0, os.SEEK_END) < offset:
                raise UploadGone(
                    f"This upload's bytes before byte {offset} were lost (the server restarted "
                    "before they reached its disk); start the upload again."
                )
            out.truncate(offset)  # whatever a PATCH that was not recorded left past it
            out.seek(offset)
            since = 0
            for chunk in chunks:
                out.write(chunk)
                since += len(chunk)
                if checkpoint is not None and since >= CHECKPOINT_BYTES:
                    out.flush()  # in the page cache: a killed process's writes outlive it
                    checkpoint(out.tell(), state)
                    since = 0
            out.flush()
            return out.tell(), state

    @contextmanager
    def finish(
        self, upload_id: str, state: dict[str, Any], size: int, sha256: str | None
    ) -> Iterator[Staged]:
        path = self.path(upload_id)
        try:
            if sha256 is None:
                sha256 = file_sha256(path)
            yield Staged(
                path=path,
                size=size,
                sha256=sha256,
                keep=lambda key: self.storage.put_file(key, path),  # a rename on one file system
                discard=lambda: path.unlink(missing_ok=True),
            )
        finally:
            path.unlink(missing_ok=True)

    def discard(self, upload_id: str, state: dict[str, Any]) -> None:
        self.path(upload_id).unlink(missing_ok=True)


def file_sha256(path: Path) -> str:
    """A stored file's sha256, read once more (the hash's state was in another process)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def of(settings: Settings, storage: Storage) -> Staging:
    """The staging for the storage in use: a local folder, or the S3 bucket itself."""
    if settings.storage == "local":
        return LocalStaging(settings.scratch_dir, storage)
    try:
        module = importlib.import_module("transcoder.uploads.s3_staging")
    except ImportError as exc:
        raise ConfigError(
            "Resumable uploads with TRANSCODER_STORAGE=s3 need transcoder.uploads.s3_staging, "
            "which this build lacks; use POST /api/videos, or local storage."
        ) from exc
    staging: Staging = module.S3Staging(settings, storage)
    return staging
