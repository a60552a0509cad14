"""A lease in Redis: who is running a part right now.

The holder renews it while it works (a heartbeat); if the worker dies, the lease
expires and the sweeper knows the part needs another worker. Only the holder
(by its token) can renew or release it.

A Redis that crashes may lose the last second of writes, the lease among them. The
holder then takes it back at its next heartbeat, if no other run has taken it
meanwhile; if one has, the holder has lost the part and must stop, so two runs
never go on writing the same outputs.
"""

from __future__ import annotations

import uuid

import redis

_RENEW = """
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if not holder then return redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) and 1 or 0 end
return 0
"""
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class Lease:
    def __init__(self, client: redis.Redis, key: str, seconds: float) -> None:
        self.redis, self.key, self.millis = client, key, int(seconds * 1000)
        self.token = uuid.uuid4().hex

    def acquire(self) -> bool:
        """Take the lease if nobody holds it; False means another run is at work."""
        return bool(self.redis.set(self.key, self.token, nx=True, px=self.millis))

    def renew(self) -> bool:
        """Extend our lease (or take it back if Redis lost it); False: another run holds it now."""
        return bool(self.redis.eval(_RENEW, 1, self.key, self.token, self.millis))

    def release(self) -> None:
        self.redis.eval(_RELEASE, 1, self.key, self.token)


def held(client: redis.Redis, key: str) -> bool:
    return bool(client.exists(key))
