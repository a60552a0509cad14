"""Video documents: live in Redis while they run, recorded for good in the catalog.

``update`` applies one transition inside a Redis optimistic transaction that also
bumps the sequence number, raises the cache floor and publishes the new snapshot, so
the live state, the number and the event always agree, and deciding "all the work is
done" happens exactly once. A transition that changes what the catalog keeps (a
state, not progress) is then written to the database; if the database is down, the
video is noted as behind and the sweeper writes it when the database is back
(``catch_up``). Reads go through ``transcoder.records.cache``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import orjson
import redis

from transcoder.errors import CatalogUnavailable, VideoNotFound
from transcoder.records import redis_keys
from transcoder.records.cache import TOMBSTONE, Cache
from transcoder.records.catalog import Catalog
from transcoder.records.replies import as_text
from transcoder.records.states import TERMINAL, Video, milestone

log = logging.getLogger(__name__)

#: How long an update waits for the database to catch up with a copy Redis lost
#: (a writer between its Redis transaction and its database write), in seconds.
CATCH_UP_WAIT_S = 5.0
#: Seconds an ended video's copy stays in Redis when the cache is off.
BRIEF_S = 60


class VideoStore:
    """Video documents, written only through transitions."""

    def __init__(self, client: redis.Redis, catalog: Catalog, cache_ttl: int) -> None:
        self.redis = client
        self.catalog = catalog
        self.cache = Cache(client, cache_ttl)

    def create(self, video: Video, key_id: str | None = None) -> Video:
        """Record a new video: the database first, so an upload it refuses leaves nothing."""
        video = {**video, "seq": 1}
        self.catalog.record(video, key_id)
        try:
            self.announce(video)
        except redis.RedisError:
            self.catalog.delete(video["id"])
            raise
        return video

    def announce(self, video: Video) -> None:
        """Put a video the catalog has just recorded into Redis and publish it. One born
        ended (a repeat of bytes already encoded, ``transcoder.work.reuse``) is not active."""
        data = json.dumps(video)
        ended = video["state"] in TERMINAL
        with self.redis.pipeline() as pipe:
            pipe.set(
                redis_keys.video_key(video["id"]),
                data,
                nx=True,
                ex=(self.cache.ttl or BRIEF_S) if ended else None,
            )
            pipe.set(redis_keys.floor_key(video["id"]), video["seq"], ex=redis_keys.FLAG_TTL)
            if not ended:
                pipe.sadd(redis_keys.ACTIVE_VIDEOS, video["id"])
            pipe.publish(redis_keys.events_channel(video["id"]), data)
            pipe.incr(redis_keys.PAGES_VERSION)
            pipe.execute()

    def get(self, video_id: str) -> Video:
        found = self.many([video_id])
        if not found:
            raise VideoNotFound(f"No video with id {video_id!r}.")
        return found[0]

    def many(self, video_ids: list[str]) -> list[Video]:
        """These videos in this order, from Redis or else the database; unknown ids left out.

        With Redis out of reach every read goes to the database: the library and ended
        videos stay readable (a running video's progress waits for Redis).
        """
        try:
            raws = self.cache.get_many(video_ids)
        except redis.RedisError as exc:
            log.warning("videos read from the database: Redis is out of reach (%s)", exc)
            return self.catalog.get_many_ordered(video_ids)
        found = {i: orjson.loads(raw) for i, raw in zip(video_ids, raws, strict=True) if raw is not None}
        missing = [i for i in video_ids if i not in found]
        if missing:
            copies = []
            for video in self.catalog.get_many(missing):
                found[video["id"]] = video
                if video["state"] not in TERMINAL:
                    copies.append((video, 0))
                elif self.cache.ttl:
                    copies.append((video, self.cache.ttl))
            if copies:
                self.cache.fill_many(copies)
        return [found[i] for i in video_ids if i in found]

    def update(self, video_id: str, change: Callable[[Video], bool]) -> tuple[Video, bool]:
        """Apply ``change`` atomically; publish the new snapshot when it changed something."""
        key = redis_keys.video_key(video_id)
        deadline = None
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if raw is None:
                        pipe.unwatch()
                        deadline = deadline or time.monotonic() + CATCH_UP_WAIT_S
                        self._reload(video_id, deadline)
                        continue
                    video = json.loads(raw)
                    before = milestone(video)
                    if not change(video):
                        pipe.unwatch()
                        return video, False
                    video["seq"] += 1
                    data = json.dumps(video)
                    ended = video["state"] in TERMINAL
                    pipe.multi()
                    # An ended video's copy lasts a while even with no cache: ``catch_up``
                    # reads it if the database is down.
                    pipe.set(key, data, ex=(self.cache.ttl or BRIEF_S) if ended else None)
                    pipe.set(redis_keys.floor_key(video_id), video["seq"], ex=redis_keys.FLAG_TTL)
                    (pipe.srem if ended else pipe.sadd)(redis_keys.ACTIVE_VIDEOS, video_id)
                    pipe.publish(redis_keys.events_channel(video_id), data)
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue
        if milestone(video) != before:
            self.keep(video, listed=video["state"] != before[0])
        return video, True

    def _reload(self, video_id: str, deadline: float) -> None:
        """Put the database's record back in Redis (lost, or an ended video's copy expired)."""
        video = self.catalog.get(video_id)
        if video is None:
            raise VideoNotFound(f"No video with id {video_id!r}.")
        ttl = (self.cache.ttl or BRIEF_S) if video["state"] in TERMINAL else 0
        if self.cache.fill(video, ttl) == -1:
            # A writer raised the floor and has not written the database yet; or it was deleted.
            if int(self.redis.get(redis_keys.floor_key(video_id)) or 0) >= TOMBSTONE:
                raise VideoNotFound(f"No video with id {video_id!r}.")
            if time.monotonic() > deadline:
                raise CatalogUnavailable(f"The database is behind on video {video_id}; try again shortly.")
            time.sleep(0.05)

    def keep(self, video: Video, listed: bool = True) -> None:
        """Write a transition to the database; if it is down, note the video as behind."""
        try:
            self.catalog.record(video)
        except CatalogUnavailable as exc:
            log.warning("video %s: not recorded yet (%s); the sweeper will", video["id"], exc.message)
            self.redis.sadd(redis_keys.BEHIND, video["id"])
            return
        if listed:
            self.redis.incr(redis_keys.PAGES_VERSION)

    def catch_up(self) -> int:
        """Record the videos the database missed while it was down; returns how many."""
        done = 0
        for raw_id in self.redis.smembers(redis_keys.BEHIND):
            video_id = as_text(raw_id)
            raw = self.redis.get(redis_keys.video_key(video_id))
            if raw is not None:
                self.catalog.record(json.loads(raw))  # raises while the database is still down
                self.redis.incr(redis_keys.PAGES_VERSION)
                done += 1
            self.redis.srem(redis_keys.BEHIND, video_id)
        return done

    def delete(self, video_id: str) -> None:
        """Forget a video: the database first (so a refusal there changes nothing), then Redis."""
        self.catalog.delete(video_id)
        with self.redis.pipeline() as pipe:
            pipe.set(redis_keys.floor_key(video_id), TOMBSTONE, ex=redis_keys.FLAG_TTL)
            pipe.delete(redis_keys.video_key(video_id), redis_keys.runs_key(video_id))
            pipe.srem(redis_keys.ACTIVE_VIDEOS, video_id)
            pipe.srem(redis_keys.BEHIND, video_id)
            pipe.incr(redis_keys.PAGES_VERSION)
            pipe.execute()

    def active(self) -> list[str]:
        """Ids of videos not yet ended."""
        return sorted(as_text(i) for i in self.redis.smembers(redis_keys.ACTIVE_VIDEOS))

    def active_videos(self) -> list[Video]:
        """Videos not yet ended (for the sweeper, the autoscaler and /metrics), in one read."""
        return self.many(self.active())

    def page(
        self,
        *,
        state: str | None = None,
        query: str = "",
        cursor: str | None = None,
        limit: int = 50,
        owner: str | None = None,
    ) -> tuple[list[Video], str | None]:
        """A library page, newest first, and the cursor of the next (None on the last);
        ``owner`` keeps one user's videos."""
        ids, nxt = self.page_ids(state=state, query=query, cursor=cursor, limit=limit, owner=owner)
        return self.many(ids), nxt

    def page_ids(
        self,
        *,
        state: str | None = None,
        query: str = "",
        cursor: str | None = None,
        limit: int = 50,
        owner: str | None = None,
    ) -> tuple[list[str], str | None]:
        wanted = {"state": state or "", "q": query, "cursor": cursor or "", "limit": limit}
        if owner is not None:
            wanted["owner"] = owner
        ask = {"state": state, "query": query, "cursor": cursor, "limit": limit, "owner": owner}
        try:
            version, cached = self.cache.page(wanted)
        except redis.RedisError:
            return self.catalog.page_ids(**ask)  # type: ignore[arg-type]
        if cached is None:
            ids, nxt = self.catalog.page_ids(**ask)  # type: ignore[arg-type]
            cached = {"ids": ids, "next": nxt}
            self.cache.keep_page(version, wanted, cached)
        return cached["ids"], cached["next"]
