"""Upload reservations: the bytes an upload under way holds against its user's quotas, so
parallel uploads, on any number of web processes, cannot together pass a quota.

Checking an upload against the catalog's stored total alone (as PeerTube's
``isAbleToUploadVideo`` does) lets every upload that arrives while the others are still
being read pass the same check: six parallel uploads with room for one were all
accepted. So each upload first *reserves* its bytes, in one Redis script that every web
process runs against the same hash (``redis_keys.reservations_key``), and only then
reads the catalog's totals and compares:

    catalog's stored total + bytes reserved by the user's other uploads + this size <= quota

(and the same with the bytes uploaded in the last 24 hours for the daily quota). The
order is what makes it hold: of any two uploads, the one that reserves second sees the
first, either still reserved or, if the first released it, already in the catalog (a
reservation is released only after its video is recorded, or once it was refused). A
race can at worst count an upload twice (refuse one that would have fitted: the client
is told to try again), never count it nowhere. Redis rather than a row lock in the
catalog: the quota is checked before the body is read, when there is no transaction to
hold open for the minutes an upload can take, and SQLite has no row locks.

A reservation lasts ``TTL_S`` after its last change, so one a killed web process held is
forgotten by itself. An upload that outlasts it is not lost: its next ``resize`` finds
the reservation gone and claims it again, checked like a new one.

How the web layer uses it (``web.videos.api.upload``), before the body is touched, through
``actions.reserve_upload`` (which also counts a refusal for /metrics)::

    with actions.reserve_upload(services, user, request.content_length or 0) as held:
        upload = request.files["file"]           # the body is read only now
        actions.accept_upload(services, upload.stream, name, user, reservation=held)

``Content-Length`` is an upper bound of the file (the multipart form adds its headers),
so ``accept_upload`` trims the reservation to the file's real size once it is read
(``resize``), and releases it once the video is recorded; leaving the ``with`` releases
it whatever happened (releasing twice is harmless).
"""

from __future__ import annotations

import logging
import time
import uuid
from types import TracebackType

import redis

from transcoder.accounts import quotas
from transcoder.accounts.users import User
from transcoder.errors import QuotaExceeded
from transcoder.records import redis_keys

log = logging.getLogger(__name__)

#: Seconds a reservation lasts after its last change: how long a killed web process's
#: reservation can still count against its user.
TTL_S = 15 * 60

#: Set this upload's reservation (ARGV[1] its id, ARGV[2] its bytes, ARGV[3] the TTL),
#: dropping those past their time; returns the bytes the user's other uploads hold and
#: this one's before (-1: it had none, or it had lapsed). Entries are "bytes expires_at".
_CLAIM = """
local now = tonumber(redis.call('TIME')[1])
local others, before = 0, -1
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local bytes, expires = string.match(all[i + 1], '^(%d+) (%d+)$')
  if bytes == nil or tonumber(expires) <= now then
    redis.call('HDEL', KEYS[1], all[i])
  elseif all[i] == ARGV[1] then
    before = tonumber(bytes)
  else
    others = others + tonumber(bytes)
  end
end
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. (now + ttl))
if redis.call('TTL', KEYS[1]) < ttl then
  redis.call('EXPIRE', KEYS[1], ttl)
end
return {others, before}
"""


class Reservation:
    """The bytes one upload holds against its user's quotas until ``release``."""

    def __init__(
        self,
        client: redis.Redis,
        ledger: quotas.Quotas,
        user: User,
        reservation_id: str | None = None,
        ttl_s: int | None = None,
    ) -> None:
        self.redis, self.quotas, self.user = client, ledger, user
        limits = quotas.limits_of(user, ledger.storage_default, ledger.daily_default)
        #: A resumable upload's reservation has its upload's id and lasts until the upload
        #: expires (each PATCH claims it again); a multipart upload's lasts ``TTL_S``.
        self.id = reservation_id or uuid.uuid4().hex
        self.ttl_s = ttl_s
        self.size = 0
        self.released = False
        #: No quota to hold against (an admin, or 0 for both): nothing is kept in Redis.
        self.free = not any(limits)

    def resize(self, size: int) -> None:
        """Hold ``size`` bytes now. Less than held is never refused (the body turned out
        smaller than its ``Content-Length``); more, or a reservation that lapsed, is
        checked against the quotas, and a refusal (``QuotaExceeded``) releases it."""
        if self.free:
            self.size = size
            return
        self.released = False
        key = redis_keys.reservations_key(self.user.id)
        others, before = self.redis.eval(_CLAIM, 1, key, self.id, str(max(size, 0)), str(self.ttl_s or TTL_S))
        self.size = size
        if 0 <= size <= before:
            return
        # Only now the catalog: any upload that released its reservation before ours was
        # set is recorded there (see the module's docstring).
        try:
            quotas.check(self.quotas.usage(self.user), size, in_flight=int(others))
        except QuotaExceeded:
            self.release()
            raise

    def release(self) -> None:
        """Give the bytes back: the upload was refused, failed, or its video is recorded
        (its bytes now counted by the catalog). Harmless twice."""
        if self.free or self.released:
            return
        self.released = True
        self.redis.hdel(redis_keys.reservations_key(self.user.id), self.id)

    def __enter__(self) -> Reservation:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.release()
        except Exception:  # noqa: BLE001 - never hide the upload's own outcome behind this
            log.warning(
                "reservation %s of user %s not released; it lapses in %d s", self.id, self.user.id, TTL_S
            )


def reserve(
    client: redis.Redis,
    ledger: quotas.Quotas,
    user: User,
    size: int,
    reservation_id: str | None = None,
    ttl_s: int | None = None,
) -> Reservation:
    """Reserve ``size`` bytes of ``user``'s quotas for an upload, or raise ``QuotaExceeded``.

    Call it before reading the body, with its ``Content-Length`` (0 when it has none: the
    real size is then checked by ``resize`` once the body is read). Redis errors go up to
    the caller (the web app answers 503).
    """
    held = Reservation(client, ledger, user, reservation_id, ttl_s)
    held.resize(size)
    return held


def held_bytes(client: redis.Redis, user_id: str) -> int:
    """The bytes the user's uploads under way hold now (lapsed entries not counted): what
    ``/api/me`` shows, since a refusal counts them against the quotas too."""
    now = time.time()
    total = 0
    for raw in client.hvals(redis_keys.reservations_key(user_id)):
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        size, _, expires = text.partition(" ")
        if size.isdigit() and expires.isdigit() and int(expires) > now:
            total += int(size)
    return total


def forget(client: redis.Redis, user_id: str, reservation_id: str) -> None:
    """Drop a reservation by its id, without its user at hand (an expired resumable
    upload's, removed by the sweep). Harmless if it is gone."""
    client.hdel(redis_keys.reservations_key(user_id), reservation_id)
