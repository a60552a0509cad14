"""A lease in Redis: who is running a part right now.

The holder renews it while it works (a heartbeat); if the worker dies, the lease
expires and the sweeper knows the part needs another worker. Only the holder
(by its token) can renew or release it.
"""

from __future__ import annotations

import uuid

import redis

_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
)
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class Lease:
    def __init__(self, client: redis.Redis, key: str, seconds: float) -> None:
        self.redis, self.key, self.millis = client, key, int(seconds * 1000)
        self.token = uuid.uuid4().hex

    def acquire(self) -> bool:
        """Take the lease if nobody holds it; False means another run is at work."""
        return bool(self.redis.set(self.key, self.token, nx=True, px=self.millis))

    def renew(self) -> bool:
        return bool(self.redis.eval(_RENEW, 1, self.key, self.token, self.millis))

    def release(self) -> None:
        self.redis.eval(_RELEASE, 1, self.key, self.token)


def held(client: redis.Redis, key: str) -> bool:
    return bool(client.exists(key))
