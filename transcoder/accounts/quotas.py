"""Quotas, as PeerTube has them: the bytes a user keeps in storage (sources and outputs)
and the bytes they upload in any 24 hours. The settings give every uploader's; a user's
own (``users.storage_quota``, ``daily_quota``, set with ``transcoder users quota``)
replaces them; admins have none unless one is set on them. 0 is no limit.

What a video keeps is its source's size while it runs and, once it has ended, the size of
everything stored under it (weighed by the change that ends it: ``transcoder.work.weighing``;
a canceled video keeps nothing). An upload under way holds its bytes against both quotas
from before its body is read until its video is recorded (``reservations``), so parallel
uploads cannot together pass a quota. The uploads ledger counts what was accepted, also after the
video is deleted, so deleting does not buy more uploads the same day.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, select

from transcoder.accounts.users import User
from transcoder.errors import QuotaExceeded
from transcoder.records.account_rows import UploadRow
from transcoder.records.catalog import Catalog

DAY_S = 24 * 3600


@dataclass(frozen=True)
class Usage:
    stored: int
    storage_quota: int
    uploaded_today: int
    daily_quota: int


def limits_of(user: User, storage_default: int, daily_default: int) -> tuple[int, int]:
    """A user's (storage, daily) quotas in bytes; 0 is none."""
    storage = user.storage_quota if user.storage_quota is not None else (0 if user.admin else storage_default)
    daily = user.daily_quota if user.daily_quota is not None else (0 if user.admin else daily_default)
    return storage, daily


def check(usage: Usage, size: int, in_flight: int = 0) -> None:
    """Refuse an upload of ``size`` bytes that would take its user past a quota, counting
    ``in_flight``: the bytes the user's other uploads under way hold (see
    ``transcoder.accounts.reservations``), on top of what the catalog records."""
    stored, today = usage.stored + in_flight, usage.uploaded_today + in_flight
    also = f", {_size(in_flight)} of it in uploads under way" if in_flight else ""
    if usage.storage_quota and stored + size > usage.storage_quota:
        raise QuotaExceeded(
            f"This upload ({_size(size)}) would take your videos past your storage quota: "
            f"{_size(stored)} used of {_size(usage.storage_quota)}{also}. Delete some videos, or ask "
            "an admin for more."
        )
    if usage.daily_quota and today + size > usage.daily_quota:
        raise QuotaExceeded(
            f"This upload ({_size(size)}) would take you past your daily upload quota: "
            f"{_size(today)} uploaded in the last 24 hours of {_size(usage.daily_quota)}{also}. "
            "Try again later, or ask an admin for more."
        )


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


class Quotas:
    def __init__(self, catalog: Catalog, storage_default: int, daily_default: int) -> None:
        self.catalog = catalog
        self.storage_default, self.daily_default = storage_default, daily_default

    def usage(self, user: User) -> Usage:
        storage, daily = limits_of(user, self.storage_default, self.daily_default)
        since = time.time() - DAY_S
        with self.catalog.begin() as session:
            today = session.scalar(
                select(func.sum(UploadRow.bytes)).where(UploadRow.user_id == user.id, UploadRow.at > since)
            )
        return Usage(self.catalog.stored_bytes(user.id), storage, int(today or 0), daily)

    def record_upload(self, user: User, size: int) -> None:
        with self.catalog.begin() as session:
            session.add(UploadRow(user_id=user.id, at=time.time(), bytes=size))
