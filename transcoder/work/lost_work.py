"""Finding work whose worker is gone, so no video stays `processing` forever.

A running part holds a lease its worker renews; a queued part waiting for a retry
has a time it should have started by. Any worker's sweeper that finds a running
part without a lease, or a retry long overdue, puts the part back in the queue (or
fails it after too many attempts) and sends its task again. The transition is
atomic, so when several workers sweep at once, one of them wins. ``sweep`` is one such
pass; ``tasks.sweeper`` is the thread that runs it on a timer in every worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from transcoder.errors import CatalogUnavailable, ErrorInfo
from transcoder.records import redis_keys, states, transitions
from transcoder.records.leases import held
from transcoder.services import Services
from transcoder.work import reuse, weighing
from transcoder.work.recovery import loaded_since, recover

log = logging.getLogger(__name__)

#: A retry this late (seconds) is taken to have lost its message.
RETRY_GRACE_S = 30.0

WORKER_LOST: ErrorInfo = {
    "code": "worker_lost",
    "message": "The worker running this stopped before it finished (killed, or out of memory).",
}


def restart_grace(lease_seconds: float) -> float:
    """Seconds after Redis starts during which no lease-less part is taken for dead.

    Leases expire by the clock even while Redis is down, so a restart finds the leases
    of healthy encodes gone; their holders take them back at their next heartbeat
    (see ``transcoder.records.leases``), once their Redis client has reconnected. Until then
    a missing lease proves nothing.
    """
    return 2 * lease_seconds + 5


def sweep(services: Services, enqueue: Callable[[str, str], None], now: float | None = None) -> list[str]:
    """One pass over the videos still going; returns what it did, one line per part.

    First, if Redis lost everything, the catalog's unfinished videos are put back and
    their queued work sent again; and the database is given what it missed while down.
    """
    now = time.time() if now is None else now
    try:
        done = recover(services, enqueue, now)
        services.videos.catch_up()
    except CatalogUnavailable as exc:
        log.warning("sweeper: %s", exc.message)
        done = []
    grace = restart_grace(services.settings.lease_seconds)
    uptime = int(services.redis.info("server").get("uptime_in_seconds", 0))
    loaded = loaded_since(services)
    if uptime < grace or (loaded and now - loaded < grace):
        log.info("sweeper: Redis is new or was refilled; waiting for running parts to renew their leases")
        return done
    for video in services.videos.active_videos():
        video_id = video["id"]
        for entry in video["parts"]:
            name = entry["id"]
            if held(services.redis, redis_keys.lease_key(video_id, name)):
                continue
            if not services.redis.exists(redis_keys.LOADED):
                log.warning("sweeper: Redis lost its state during this sweep; the next one recovers")
                return done
            if entry["state"] == states.PartState.RUNNING:
                action = _requeue_lost(services, video_id, name, now)
            elif entry["state"] == states.PartState.QUEUED and _overdue(entry, now):
                action = _push_retry(services, video_id, name, now)
            else:
                continue
            if action == "requeued":
                enqueue(video_id, name)
            if action:
                log.warning("sweeper: video %s %s %s", video_id, name, action)
                done.append(f"{video_id} {name} {action}")
    # Followers whose origin ended or vanished without settling them (a lost close).
    for video in reuse.sweep_followers(services):
        for name in transitions.dispatchable(video):
            enqueue(video["id"], name)
            done.append(f"{video['id']} {name} released")
    return done


def _overdue(entry: states.PartEntry, now: float) -> bool:
    retry_at = entry.get("retry_at")
    return retry_at is not None and now > retry_at + RETRY_GRACE_S


def _requeue_lost(services: Services, video_id: str, name: str, now: float) -> str | None:
    max_attempts = services.settings.max_attempts

    def change(video: states.Video) -> bool:
        entry = states.part(video, name)
        if entry["state"] != states.PartState.RUNNING:
            return False
        return transitions.requeue_part(
            video, name, WORKER_LOST, now, max_attempts=max_attempts, retry_at=now
        )

    video, changed = weighing.update(services, video_id, change)  # its last part may fail
    if not changed:
        return None
    return "requeued" if states.part(video, name)["state"] == states.PartState.QUEUED else "failed"


def _push_retry(services: Services, video_id: str, name: str, now: float) -> str | None:
    def change(video: states.Video) -> bool:
        entry = states.part(video, name)
        if entry["state"] != states.PartState.QUEUED or not _overdue(entry, now):
            return False
        entry["retry_at"] = now
        return True

    _, changed = services.videos.update(video_id, change)
    return "requeued" if changed else None
