"""Following a video's progress live.

Workers publish every new snapshot on the video's channel (see ``store.VideoStore``).
A follower subscribes *before* reading the stored snapshot, so nothing published
in between is missed, and drops anything not newer than what it already sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import redis

from . import keys
from .jobs import TERMINAL, Video
from .store import VideoStore

#: How often a quiet follower re-reads the snapshot, in case a message was lost
#: (pub/sub is at-most-once, e.g. across a Redis reconnect).
RESYNC_INTERVAL_S = 5.0


def follow(
    client: redis.Redis, store: VideoStore, video_id: str, keepalive_s: float = 15.0
) -> Iterator[Video | None]:
    """Yield the current snapshot, then every newer one until the video ends.

    ``None`` is yielded after ``keepalive_s`` without news, so a caller can keep
    its connection open. Raises ``VideoNotFound`` before subscribing for long.
    """
    channel = keys.events_channel(video_id)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    try:
        video = store.get(video_id)
        last_seq = video["seq"]
        yield video
        if video["state"] in TERMINAL:
            return
        last_sent = last_check = time.monotonic()
        while True:
            fresh: Video | None = None
            try:
                message = pubsub.get_message(timeout=1.0)
            except redis.RedisError:
                # The subscription dropped (Redis restarted, the connection was killed):
                # subscribe again and read the snapshot, so nothing in between is missed.
                time.sleep(0.5)
                pubsub.close()
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(channel)
                message, last_check = None, 0.0
            now = time.monotonic()
            if message is not None and message.get("type") == "message":
                fresh = json.loads(message["data"])
            elif now - last_check >= RESYNC_INTERVAL_S:
                last_check = now
                fresh = store.get(video_id)
            if fresh is not None and fresh["seq"] > last_seq:
                last_seq, last_sent = fresh["seq"], now
                yield fresh
                if fresh["state"] in TERMINAL:
                    return
            elif now - last_sent >= keepalive_s:
                last_sent = now
                yield None
    finally:
        pubsub.close()
