"""A user's resumable uploads under way: the list ``GET /api/uploads/`` answers (an upload
whose creation answer was lost can be found, resumed or deleted), and the cap
(``TRANSCODER_UPLOADS_UNDER_WAY``) on how many one user may hold, since each holds a
catalog row, staged bytes (an open S3 multipart upload) and quota until it ends or expires.

The cap is counted and the new row written while the user's creation lock is held (a
Redis lock, as every web process shares Redis): two creations at once cannot both count
the same last free place. The catalog is the count's truth, not a Redis counter, so an
upload removed by any path (finished, deleted, swept) frees its place with nothing more.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import redis
from sqlalchemy import func, select

from transcoder.errors import TooManyUploads, Unavailable
from transcoder.records import redis_keys
from transcoder.records.catalog import Catalog
from transcoder.records.upload_rows import ResumableUploadRow

#: At most this many uploads in one listing (the cap keeps a user below it by default).
LIST_LIMIT = 100
#: Seconds the creation lock lasts at most (a creation is a few catalog and storage calls),
#: and how long a creation waits for another of the same user's to end.
LOCK_TTL_S = 30
LOCK_WAIT_S = 10


def unfinished(
    catalog: Catalog, owner_id: str, now: float | None = None, limit: int = LIST_LIMIT
) -> list[dict[str, Any]]:
    """The owner's uploads whose last byte has not come and that have not expired, newest
    first (id, filename, offset, length, created_at, expires_at)."""
    now = time.time() if now is None else now
    with catalog.begin() as session:
        rows = session.scalars(
            select(ResumableUploadRow)
            .where(
                ResumableUploadRow.owner_id == owner_id,
                ResumableUploadRow.video_id.is_(None),
                ResumableUploadRow.expires_at > now,
            )
            .order_by(ResumableUploadRow.created_at.desc(), ResumableUploadRow.id)
            .limit(limit)
        )
        return [
            {
                "id": r.id,
                "filename": r.filename,
                "offset": r.offset,
                "length": r.length,
                "created_at": r.created_at,
                "expires_at": r.expires_at,
            }  # fmt: skip
            for r in rows
        ]


def count(catalog: Catalog, owner_id: str, now: float | None = None) -> int:
    """How many unfinished, unexpired uploads the owner holds."""
    now = time.time() if now is None else now
    with catalog.begin() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(ResumableUploadRow)
                .where(
                    ResumableUploadRow.owner_id == owner_id,
                    ResumableUploadRow.video_id.is_(None),
                    ResumableUploadRow.expires_at > now,
                )
            )
            or 0
        )


@contextlib.contextmanager
def place(client: redis.Redis, catalog: Catalog, owner_id: str, cap: int) -> Iterator[None]:
    """Hold the owner's creation lock while the body of the ``with`` creates the upload,
    after checking that a place is left under ``cap`` (0: no cap): ``TooManyUploads`` (429)
    says how to free one."""
    if cap <= 0:
        yield
        return
    lock = client.lock(redis_keys.creating_key(owner_id), timeout=LOCK_TTL_S, blocking_timeout=LOCK_WAIT_S)
    if not lock.acquire():
        raise Unavailable("Another of your uploads is being created right now; try again in a moment.")
    try:
        held = count(catalog, owner_id)
        if held >= cap:
            raise TooManyUploads(
                f"You have {held} unfinished uploads; at most {cap} may be under way at once. Finish one, "
                "or delete one you no longer need (DELETE its URL; GET /api/uploads/ lists them)."
            )
        yield
    finally:
        with contextlib.suppress(redis.RedisError):
            lock.release()
