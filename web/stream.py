"""Server-Sent Events: the current snapshot first, then every change, until the video ends."""

from __future__ import annotations

import json
from collections.abc import Iterator

from flask import Blueprint, Response, stream_with_context

from transcoder import events

from .ops import sse_clients
from .views import checked_id, services, video_json

bp = Blueprint("stream", __name__, url_prefix="/api")


@bp.get("/videos/<video_id>/events")
def video_events(video_id: str) -> Response:
    svc = services()
    video_id = checked_id(video_id)
    svc.videos.get(video_id)  # a 404 here, before the stream starts
    updates = events.follow(svc.redis, svc.videos, video_id, svc.settings.sse_keepalive)

    clients = sse_clients()

    def generate() -> Iterator[str]:
        clients.inc()
        try:
            yield "retry: 2000\n\n"
            for video in updates:
                if video is None:
                    yield ": keep-alive\n\n"
                    continue
                body = json.dumps(video_json(video))
                yield f"id: {video['seq']}\nevent: video\ndata: {body}\n\n"
            yield "event: end\ndata: {}\n\n"
        finally:
            clients.dec()

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream_with_context(generate()), mimetype="text/event-stream", headers=headers)
