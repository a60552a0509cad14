"""One Redis lock per resumable upload: one request at a time writes its bytes.

Two PATCHes of one upload at once (a client that retried while its first PATCH still
drained, or two tabs) would otherwise write over each other at the same offset. The
second is refused (423, tus-js-client retries it) rather than queued: its bytes start
where the first's did, so once the first ends they no longer fit anyway. tusd takes such
a lock too, but in memory or in PID files; ours is in Redis so it holds across every web
process and machine.

The lock is a random token under ``redis_keys.upload_lock_key`` with a short TTL
(``TTL_S``, 15 s), so one a killed process held lapses by itself within 15 s and the
client's retry goes on from the last checkpoint (``resumable``). While its request lives,
a heartbeat (a thread; a greenlet under gevent's monkey-patching in the web process)
renews it every third of the TTL, whatever the body's rate: a body may stall for a whole
rate window (``web.middleware.upload_rate``: 30 s) between two reads, longer than the
TTL, so renewing only as the body drains would not be enough. The holder also refreshes
it before each record (``refresh``, compare-and-expire) and releases it by
compare-and-delete, so it never removes a lock that lapsed and another request took since.
A holder whose lock lapsed learns it at its next refresh and stops writing (``LockLost``);
and the offset it would record is written only if the upload still stands where it began
(``resumable``'s conditional update), so even a lapsed lock cannot interleave two bodies.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from transcoder.errors import UploadBusy
from transcoder.records import redis_keys

#: The lock's TTL: how long a killed holder blocks its upload's next PATCH (423) at most.
TTL_S = 15.0

#: Compare-and-expire: refresh the lock only while it is still ours.
_REFRESH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
#: Compare-and-delete: release only our own lock.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class LockLost(UploadBusy):
    """The lock lapsed while its holder wrote (it stalled past the TTL) and may be another's."""


class UploadLock:
    """A held lock; ``refresh`` it at least every ``ttl_s`` while working."""

    def __init__(self, client: redis.Redis, upload_id: str, ttl_s: float) -> None:
        self.redis, self.key, self.ttl_s = client, redis_keys.upload_lock_key(upload_id), ttl_s
        self.token = secrets.token_hex(16)
        self.refreshed_at = 0.0

    def acquire(self) -> bool:
        taken = bool(self.redis.set(self.key, self.token, nx=True, px=int(self.ttl_s * 1000)))
        self.refreshed_at = time.monotonic()
        return taken

    def refresh(self, force: bool = False) -> None:
        """Extend the TTL (at most every quarter of it, unless ``force``); ``LockLost`` if
        the lock is no longer ours."""
        now = time.monotonic()
        if not force and now - self.refreshed_at < self.ttl_s / 4:
            return
        if not self.redis.eval(_REFRESH, 1, self.key, self.token, str(int(self.ttl_s * 1000))):
            raise LockLost(
                "This upload's PATCH stalled so long that another request may have taken it over; "
                "ask for the upload's offset (HEAD) and go on from there."
            )
        self.refreshed_at = now

    def release(self) -> None:
        self.redis.eval(_RELEASE, 1, self.key, self.token)


class Heartbeat:
    """Renews a held lock every third of its TTL until stopped, so a live request keeps it
    however slowly its body comes, and a dead process's lock lapses within one TTL.

    A renewal that finds the lock gone ends the heartbeat; the holder learns it at its
    next ``refresh`` (``LockLost``) and records nothing. A Redis error is retried at the
    next beat: the lock may lapse meanwhile, which the holder's own refresh then finds.
    """

    def __init__(self, lock: UploadLock) -> None:
        self.lock = lock
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="upload-lock", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stopped.wait(self.lock.ttl_s / 3):
            try:
                self.lock.refresh(force=True)
            except LockLost:
                return
            except redis.RedisError:
                continue


@contextmanager
def hold(client: redis.Redis, upload_id: str, ttl_s: float = TTL_S) -> Iterator[UploadLock]:
    """The upload's lock for the ``with``, renewed by a ``Heartbeat`` as long as the ``with``
    lasts, or ``UploadBusy`` (423) at once if another holds it."""
    lock = UploadLock(client, upload_id, ttl_s)
    if not lock.acquire():
        raise UploadBusy(
            "Another request is writing this upload right now; wait for it to end, then ask for "
            "the upload's offset (HEAD) and go on from there."
        )
    beat = Heartbeat(lock)
    beat.start()
    try:
        yield lock
    finally:
        beat.stop()
        lock.release()
