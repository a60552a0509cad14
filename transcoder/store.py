"""Video documents in Redis, written only through the transitions of ``transcoder.jobs``.

``update`` applies one transition inside a Redis optimistic transaction that also
bumps the sequence number and publishes the new snapshot, so the stored state,
the number and the event always agree, and deciding "all the work is done"
happens exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import redis

from . import keys
from .errors import VideoNotFound
from .jobs import TERMINAL, Video


class VideoStore:
    """Video documents in Redis, written only through transitions."""

    def __init__(self, client: redis.Redis, ttl_seconds: int) -> None:
        self.redis = client
        self.ttl = ttl_seconds

    def create(self, video: Video) -> Video:
        video = {**video, "seq": 1}
        data = json.dumps(video)
        with self.redis.pipeline() as pipe:
            pipe.set(keys.video_key(video["id"]), data, ex=self.ttl, nx=True)
            pipe.zadd(keys.VIDEOS_INDEX, {video["id"]: video["created_at"]})
            pipe.sadd(keys.ACTIVE_VIDEOS, video["id"])
            pipe.hincrby(keys.VIDEO_STATES, video["state"], 1)
            pipe.publish(keys.events_channel(video["id"]), data)
            pipe.execute()
        return video

    def get(self, video_id: str) -> Video:
        raw = self.redis.get(keys.video_key(video_id))
        if raw is None:
            raise VideoNotFound(f"No video with id {video_id!r}.")
        return json.loads(raw)

    def update(self, video_id: str, change: Callable[[Video], bool]) -> tuple[Video, bool]:
        """Apply ``change`` atomically; publish the new snapshot when it changed something."""
        key = keys.video_key(video_id)
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if raw is None:
                        raise VideoNotFound(f"No video with id {video_id!r}.")
                    video = json.loads(raw)
                    before = video["state"]
                    if not change(video):
                        pipe.unwatch()
                        return video, False
                    video["seq"] += 1
                    data = json.dumps(video)
                    pipe.multi()
                    pipe.set(key, data, keepttl=True)
                    if video["state"] in TERMINAL:
                        pipe.srem(keys.ACTIVE_VIDEOS, video_id)
                    else:
                        pipe.sadd(keys.ACTIVE_VIDEOS, video_id)
                    if video["state"] != before:
                        pipe.hincrby(keys.VIDEO_STATES, before, -1)
                        pipe.hincrby(keys.VIDEO_STATES, video["state"], 1)
                    pipe.publish(keys.events_channel(video_id), data)
                    pipe.execute()
                    return video, True
                except redis.WatchError:
                    continue

    def delete(self, video_id: str) -> None:
        """Forget a video: one deleted, or one that never got going (its work could not be queued)."""
        raw = self.redis.get(keys.video_key(video_id))
        with self.redis.pipeline() as pipe:
            if raw is not None:
                pipe.hincrby(keys.VIDEO_STATES, json.loads(raw)["state"], -1)
            pipe.delete(keys.video_key(video_id), keys.runs_key(video_id))
            pipe.zrem(keys.VIDEOS_INDEX, video_id)
            pipe.srem(keys.ACTIVE_VIDEOS, video_id)
            pipe.execute()

    def active(self) -> list[str]:
        """Ids of videos not yet ended."""
        return sorted(
            i.decode() if isinstance(i, bytes) else i for i in self.redis.smembers(keys.ACTIVE_VIDEOS)
        )

    def active_videos(self) -> list[Video]:
        """Videos not yet ended (for the sweeper, the autoscaler and /metrics), in one read."""
        return self._many(self.active())

    def recent(self, limit: int = 50) -> list[Video]:
        ids = self.redis.zrevrange(keys.VIDEOS_INDEX, 0, limit - 1)
        return self._many([i.decode() if isinstance(i, bytes) else i for i in ids])

    def _many(self, ids: list[str]) -> list[Video]:
        """The documents of these ids; any that expired meanwhile are left out."""
        if not ids:
            return []
        raws = self.redis.mget([keys.video_key(i) for i in ids])
        return [json.loads(raw) for raw in raws if raw is not None]
