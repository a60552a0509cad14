"""What ends the live streams a credential opened: signing out (a session), revoking a key,
disabling a user or changing their password (every credential of theirs).

Each open event stream and WebSocket re-checks its credential at each keep-alive
(``Watch``), rather than being told on a pub/sub channel (Mastodon's shape). Why: a
message on a channel reaches only the processes listening at that instant, so a
revocation published while a web process was reconnecting to Redis, or by a CLI that
could not reach Redis, would be lost, and the stream would run on for ever; a check
at each keep-alive cannot be missed. It costs little:

- at each keep-alive, one ``MGET`` of at most two small Redis markers (this credential's,
  and its user's), set by whoever revoked (``Revocations``: the web app, or the
  operator's CLI, on any machine);
- a marker that changed is only news: the catalog, the source of truth, decides (so a
  marker left from a user since re-enabled ends nothing, and a marker set by mistake
  ends nothing either);
- and whatever Redis says, every ``CATALOG_EVERY`` keep-alives the catalog is asked
  again: a marker lost (Redis restarted empty, flushed, failed over, or out of reach of
  the CLI that revoked) delays the end by that much, never forever.

A stream whose database is down goes on (videos still stream while it is down) and
asks again at its next keep-alive.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import cast

import redis
from sqlalchemy.exc import SQLAlchemyError

from transcoder.records import redis_keys

#: The reasons a stream is ended with (``event: end`` data, a WebSocket's close message).
SIGNED_OUT, KEY_REVOKED, USER_DISABLED, PASSWORD_CHANGED = (
    "signed_out",
    "key_revoked",
    "user_disabled",
    "password_changed",
)
#: The catalog is asked at least once in this many keep-alive intervals, whatever Redis says.
CATALOG_EVERY = 10


class Revocations:
    """Marks a revocation in Redis, where every web process's open streams look at their
    next keep-alive. Best effort: a Redis out of reach leaves the catalog to end them
    (within ``CATALOG_EVERY`` keep-alives); the revocation itself is already in the catalog."""

    def __init__(self, client: redis.Redis, ttl_s: float) -> None:
        self.redis = client
        # A marker only needs to outlast a few of the catalog's re-checks.
        self.ttl = max(int(ttl_s), 60)

    def session_ended(self, session_hash: str) -> bool:
        return self._mark([redis_keys.revoked_key("session", session_hash)], SIGNED_OUT)

    def key_revoked(self, key_id: str) -> bool:
        return self._mark([redis_keys.revoked_key("key", key_id)], KEY_REVOKED)

    def user_cut(self, user_id: str, reason: str) -> bool:
        """Every credential of this user's (disabled, or a new password)."""
        return self._mark([redis_keys.revoked_key("user", user_id)], reason)

    def _mark(self, keys: list[str], reason: str) -> bool:
        """Whether Redis took it."""
        value = f"{time.time():.6f} {reason}"
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(key, value, ex=self.ttl)
                pipe.execute()
        except redis.RedisError:
            return False
        return True


class Watch:
    """One open stream's check of its credential, cheap to call as often as it likes: it
    looks at most once per keep-alive interval. ``ended()`` is None while the credential
    holds, then the reason it was revoked (for good: a stream never comes back)."""

    def __init__(
        self,
        client: redis.Redis,
        markers: list[str],
        verdict: Callable[[], str | None],
        every: float,
    ) -> None:
        self.redis = client
        #: This credential's marker first, then its user's (a reason is taken in this order).
        self.markers = markers
        #: Asks the catalog: None while the credential holds, else why not.
        self.verdict = verdict
        self.every = every
        self.seen: list[bytes | None] = [None] * len(markers)
        now = time.monotonic()
        self.looked_at = self.asked_at = now
        self.reason: str | None = None

    def next_check_in(self) -> float:
        """Seconds until the next look is due: a stream waits for news no longer than this,
        so an event that comes just before a look is due cannot put it off by an interval."""
        return max(0.0, self.every - (time.monotonic() - self.looked_at))

    def ended(self) -> str | None:
        now = time.monotonic()
        # 0.99: a wait of ``next_check_in()`` may wake a hair early.
        if self.reason is not None or now - self.looked_at < 0.99 * self.every:
            return self.reason
        self.looked_at = now
        values = self.seen
        with contextlib.suppress(redis.RedisError):
            values = cast(list[bytes | None], self.redis.mget(self.markers))
        due = now - self.asked_at >= CATALOG_EVERY * self.every * 0.99
        if values == self.seen and not due:
            return None
        try:
            why = self.verdict()
        except SQLAlchemyError:
            return None  # the database is down: the stream goes on, and asks again next time
        self.asked_at, self.seen = now, values
        if why is not None:
            told = [v.decode().partition(" ")[2] for v in values if v]
            self.reason = told[0] if told else why
        return self.reason
