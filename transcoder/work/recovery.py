"""Starting up, and coming back after Redis lost everything.

``prepare`` runs once as a web process or a worker starts: it brings the catalog's
schema up to date and imports the video records an earlier version kept only in
Redis. ``recover`` runs in every sweep: when the marker that Redis holds our state is
gone (Redis restarted with nothing on disk, was flushed, or failed over to an empty
replica), it puts every video the catalog records as unfinished back into Redis and
sends its queued work again. Finished parts are kept; a part that was running is
left to its worker, which takes its lease back at its next heartbeat, or to the
sweeper, which sends it again once the grace for that has passed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import cast

import redis

from transcoder.ops import metrics
from transcoder.records import redis_keys, states, transitions
from transcoder.records.database import migrate
from transcoder.records.replies import as_text
from transcoder.services import Services

log = logging.getLogger(__name__)

#: Where an earlier version (before the catalog, and before installation prefixes)
#: listed every video it kept in Redis.
LEGACY_INDEX = "transcoder:videos"
LEGACY_STATES = "transcoder:metrics:video-states"


def prepare(services: Services) -> int:
    """Migrate the schema, then import records from an earlier version; returns how many.

    A Redis out of reach does not stop a start: the import waits for the next one.
    """
    migrate(services.catalog.engine)
    try:
        return import_legacy(services)
    except redis.RedisError as exc:
        log.warning("catalog: records in Redis not imported yet (%s)", exc)
        return 0


def import_legacy(services: Services) -> int:
    """Record in the catalog the videos an earlier version kept only in Redis (with a TTL)."""
    r = services.redis
    ids = [as_text(i) for i in cast(list[bytes], r.zrange(LEGACY_INDEX, 0, -1))]
    imported = 0
    for video_id in ids:
        raw = r.get(redis_keys.video_key(video_id))
        if raw is not None:
            video = json.loads(raw)
            imported += services.catalog.record(video)
            if video["state"] not in states.TERMINAL:
                r.persist(redis_keys.video_key(video_id))  # the live copy now, kept until it ends
        r.zrem(LEGACY_INDEX, video_id)
    if ids:
        r.delete(LEGACY_STATES)
        r.incr(redis_keys.PAGES_VERSION)
        log.info("catalog: imported %d video records from Redis", imported)
    return imported


def loaded_since(services: Services) -> float | None:
    """When unfinished videos were last put back in Redis (0: none were); None: not since it lost them."""
    raw = services.redis.get(redis_keys.LOADED)
    return None if raw is None else float(raw)


def mark_new(services: Services) -> bool:
    """Mark a Redis that has nothing to put back as loaded, at once; True if this did.

    A new installation's Redis (or one that lost everything when no video was unfinished)
    bears no marker until a worker's first sweep, ``TRANSCODER_SWEEP_SECONDS`` after the
    worker starts; a video uploaded before it would be taken for a lost one and its parts
    sent twice. A web process calls this as it starts: one row of the catalog read, never
    the recovery itself, which stays with the sweep (it may send thousands of parts)."""
    r = services.redis
    if r.exists(redis_keys.LOADED) or services.catalog.has_unfinished():
        return False
    return bool(r.set(redis_keys.LOADED, 0, nx=True))


def recover(services: Services, enqueue: Callable[[str, str], None], now: float) -> list[str]:
    """If Redis lost everything, put the unfinished videos back and send their work again."""
    r = services.redis
    if r.exists(redis_keys.LOADED) or not r.set(redis_keys.RECOVERING, 1, nx=True, ex=300):
        return []
    done: list[str] = []
    try:
        unfinished = services.catalog.unfinished()
        for video in unfinished:
            video_id = video["id"]
            services.videos.cache.fill(video, 0)  # unless a worker already put it back
            r.sadd(redis_keys.ACTIVE_VIDEOS, video_id)
            for part_id in transitions.dispatchable(services.videos.get(video_id)):
                enqueue(video_id, part_id)
                done.append(f"{video_id} {part_id} sent again")
        # With videos put back, some parts may be running on live workers whose leases
        # Redis lost: the sweeper gives them a grace from now to take them back.
        r.set(redis_keys.LOADED, now if unfinished else 0)
    finally:
        r.delete(redis_keys.RECOVERING)
    if unfinished:
        metrics.record_recovery(r, len(unfinished), len(done))
        log.warning(
            "recovery: Redis had lost its state; %d videos put back, %d parts sent again",
            len(unfinished),
            len(done),
        )
    return done
