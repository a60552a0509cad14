"""A PATCH's body on its way to staging (``Feed``: hashed, checked against what is left of
the upload, the upload's lock refreshed as it drains) and this process's sha256 of each
upload's bytes so far (``HASHES``).

A hash object cannot move between processes, so each process keeps its own, with the
offset it reached: a PATCH that finds this process's hash at the upload's offset goes on
with it; any other has lost it (``Hashes.at`` answers None), and the last byte's
``Staging.finish`` reads the stored bytes once more (``transcoder.uploads.resumable``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from transcoder.uploads import locks

#: Hash objects this process keeps at most (one per upload it took bytes of; ~400 bytes each).
MAX_HASHES = 10_000


class Hashes:
    """This process's sha256 of each upload's bytes so far, with the offset it reached."""

    def __init__(self) -> None:
        self.entries: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        self.lock = threading.Lock()

    def at(self, upload_id: str, offset: int) -> Any | None:
        """A copy of the upload's hash if it reached ``offset`` (a fresh one at 0); None: lost.
        A copy: a PATCH that is refused leaves the kept one as it was."""
        if offset == 0:
            return hashlib.sha256()
        with self.lock:
            entry = self.entries.get(upload_id)
        return entry[1].copy() if entry is not None and entry[0] == offset else None

    def keep(self, upload_id: str, offset: int, digest: Any | None) -> None:
        with self.lock:
            self.entries.pop(upload_id, None)
            if digest is not None:
                self.entries[upload_id] = (offset, digest)
                while len(self.entries) > MAX_HASHES:
                    self.entries.popitem(last=False)

    def drop(self, upload_id: str) -> None:
        with self.lock:
            self.entries.pop(upload_id, None)


HASHES = Hashes()


class Feed:
    """A PATCH's body on its way to staging: hashed, checked against the upload's length,
    and the lock refreshed as it drains."""

    def __init__(
        self,
        chunks: Iterable[bytes],
        room: int,
        digest: Any | None,
        check: Any | None,
        lock: locks.UploadLock,
    ) -> None:
        self.chunks, self.room, self.digest, self.check, self.lock = chunks, room, digest, check, lock
        self.count = 0
        self.past = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.lock.refresh()
            if self.count + len(chunk) > self.room:
                # Nothing past Upload-Length is kept; the caller drops the rest of this PATCH.
                self.past = True
                return
            self.count += len(chunk)
            if self.digest is not None:
                self.digest.update(chunk)
            if self.check is not None:
                self.check.update(chunk)
            yield chunk
