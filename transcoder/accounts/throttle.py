"""Failed sign-ins make the next ones slower, per account and per address: each failure
doubles the wait before an answer (0.5 s, 1 s, 2 s... at most ``MAX_DELAY_S``), and 15
quiet minutes forget them. A wait, never a lock-out: a stranger who fails on purpose
slows the admin's next sign-in by seconds at most, and cannot keep them out."""

from __future__ import annotations

import hashlib

import redis

from transcoder.records import redis_keys

FIRST_DELAY_S = 0.5
MAX_DELAY_S = 8.0
FORGET_S = 15 * 60


def delay_after(failures: int) -> float:
    """Seconds to wait before answering, after this many recent failures."""
    if failures <= 0:
        return 0.0
    return min(FIRST_DELAY_S * 2 ** (failures - 1), MAX_DELAY_S)


class Throttle:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def _keys(self, name: str, address: str) -> list[str]:
        return [
            redis_keys.sign_in_failures_key(
                "account", hashlib.sha256(name.casefold().encode()).hexdigest()[:32]
            ),
            redis_keys.sign_in_failures_key("address", address),
        ]

    def delay(self, name: str, address: str) -> float:
        try:
            counts = self.redis.mget(self._keys(name, address))
        except redis.RedisError:
            return FIRST_DELAY_S * 4  # without the counts, every attempt waits a little
        return delay_after(max(int(c or 0) for c in counts))

    def failed(self, name: str, address: str) -> None:
        try:
            with self.redis.pipeline() as pipe:
                for key in self._keys(name, address):
                    pipe.incr(key)
                    pipe.expire(key, FORGET_S)
                pipe.execute()
        except redis.RedisError:
            pass

    def succeeded(self, name: str, address: str) -> None:
        try:
            self.redis.delete(*self._keys(name, address))
        except redis.RedisError:
            pass
