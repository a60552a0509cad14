"""What every live stream of a web process shares: its hub, the per-client cap, the counts.

Event streams and WebSockets both follow videos through the process's one hub
(``transcoder.live.hub``). Each client (its user; each key of the built-in service user
alone; with ``TRANSCODER_AUTH=off``, a request without a key by its address) may hold
``TRANSCODER_STREAMS_PER_CLIENT`` of them at once in this process, so a script or a
pile of tabs cannot take every connection the server has.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from flask import Flask, current_app

from transcoder.errors import TooManyLiveStreams, TooManyVideos, VideoNotFound
from transcoder.live.hub import Hub
from transcoder.records.states import Video

from ..auth.access import checked_id
from ..services import services
from ..videos.shapes import video_json

#: The kinds of live connection, as labelled in /metrics.
KINDS = ("sse", "ws")


class StreamCap:
    """Counts open streams per client and by kind; refuses one past the cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.by_client: Counter[str] = Counter()
        self.by_kind: Counter[str] = Counter({kind: 0 for kind in KINDS})
        self._lock = threading.Lock()

    @contextmanager
    def admit(self, client: str, kind: str) -> Iterator[None]:
        with self._lock:
            if self.cap and self.by_client[client] >= self.cap:
                raise TooManyLiveStreams(
                    f"This client already has {self.by_client[client]} live streams open here, "
                    f"the most it may; close one, or follow several videos on one stream "
                    f"(/api/events?video=ID&video=ID or the WebSocket at /api/ws)."
                )
            self.by_client[client] += 1
            self.by_kind[kind] += 1
        try:
            yield
        finally:
            with self._lock:
                self.by_client[client] -= 1
                if not self.by_client[client]:
                    del self.by_client[client]
                self.by_kind[kind] -= 1


def init_app(app: Flask) -> None:
    """Give the app its hub (started on the first stream) and its per-client cap."""
    svc = app.extensions["transcoder"]
    # The hub's own small pool: one connection for the subscription, two for reading
    # snapshots, however many streams are open.
    pool = redis.BlockingConnectionPool.from_url(
        svc.settings.redis_url,
        max_connections=3,
        timeout=10,
        socket_connect_timeout=5,
        client_name=f"transcoder-hub-{os.getpid()}",
    )
    context = app.test_request_context("/")

    def render(video: Video) -> str:
        with context:  # URLs in the video's JSON are built outside any one request
            return json.dumps(video_json(video))

    app.extensions["hub"] = Hub(redis.Redis(connection_pool=pool), svc.videos, render)
    app.extensions["stream_cap"] = StreamCap(svc.settings.streams_per_client)


def hub() -> Hub:
    return current_app.extensions["hub"]


def cap() -> StreamCap:
    return current_app.extensions["stream_cap"]


def checked_ids(video_ids: list[str]) -> list[str]:
    """Valid, distinct ids, no more than a stream may follow."""
    limit = services().settings.stream_max_videos
    ids = list(dict.fromkeys(checked_id(v) for v in video_ids))
    if len(ids) > limit:
        raise TooManyVideos(f"A stream may follow at most {limit} videos; this asked for {len(ids)}.")
    return ids


def not_found(missing: list[str]) -> VideoNotFound:
    names = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
    return VideoNotFound(f"No video with id {names}.")
