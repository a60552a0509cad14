"""A PATCH's progress recorded while its body still drains, so a web process killed
mid-body (OOM, ``kill -9``, a lost machine) loses only the bytes since the last checkpoint
rather than the whole PATCH: one page upload is one PATCH of the whole file.

``Staging.append`` calls a ``Checkpoints`` at each safe point (local: every few MiB,
flushed; S3: once a part is in the bucket). Each records the offset the same way a
PATCH's end does: the lock refreshed first (a holder whose lock lapsed records nothing),
then the catalog's conditional update on the offset last recorded. Before each, the key is
checked again: one revoked mid-body keeps what was recorded before, and nothing after.

The process's sha256 (``streaming.HASHES``) is kept at the recorded offset when the body
that was hashed is exactly the bytes recorded (local), and dropped otherwise (S3: the
body runs ahead of the part in flight), so the last byte's ``finish`` reads them again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transcoder.errors import Unauthorized
from transcoder.uploads import locks
from transcoder.uploads.streaming import HASHES, Feed

#: Records ``reached`` bytes and their state if the upload still stands at ``recorded``
#: (``Resumable.record_offset``'s conditional update; ``OffsetMismatch`` otherwise).
Record = Callable[[int, int, dict[str, Any]], None]


class Checkpoints:
    """The ``staging.Checkpoint`` of one PATCH; ``offset`` and ``state`` are the upload's as
    last recorded."""

    def __init__(
        self,
        upload_id: str,
        offset: int,
        state: dict[str, Any],
        record: Record,
        feed: Feed,
        lock: locks.UploadLock,
        revoked: Callable[[], str | None] | None,
    ) -> None:
        self.upload_id, self.offset, self.state, self.begun = upload_id, offset, state, offset
        self.record, self.feed, self.lock, self.revoked = record, feed, lock, revoked

    def __call__(self, offset: int, state: dict[str, Any]) -> None:
        if self.revoked is not None and (why := self.revoked()) is not None:
            raise Unauthorized(
                f"Your credential was revoked while this body arrived ({why}); only the bytes "
                f"recorded before (up to byte {self.offset}) were kept."
            )
        self.lock.refresh(force=True)  # still ours: no other writer since
        self.record(self.offset, offset, state)
        digest = self.feed.digest
        whole = self.begun + self.feed.count == offset
        HASHES.keep(self.upload_id, offset, digest.copy() if digest is not None and whole else None)
        self.offset, self.state = offset, state
