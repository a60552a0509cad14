"""Server-Sent Events: one stream for any number of videos, fed by the process's hub.

Each event is one video's snapshot (``event: video``, the JSON of ``GET /api/videos/<id>``)
with the id ``<video id>:<seq>``. A stream starts with the current snapshot of each
video it follows; a client that reconnects with ``Last-Event-ID`` is not sent again
the snapshot it already has, and gets the current one of every other video, which
holds every change it missed. A video that ends leaves the stream after its last
snapshot; a stream of given videos ends (``event: end``) once all of them have. A stream
whose credential is revoked (signed out, key revoked, user disabled or given a new
password) ends within one keep-alive interval with ``event: end`` and
``{"reason": ...}`` (``web.auth.revocation``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import redis
from flask import Blueprint, Response, request

from transcoder.errors import InvalidInput, Unavailable
from transcoder.live.follower import Follower

from ..auth import revocation
from ..auth.access import checked_id, owner_filter
from ..auth.identity import client_id, current_user
from ..services import services
from . import streams

bp = Blueprint("sse", __name__, url_prefix="/api")

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@bp.get("/events")
def events() -> Response:
    """Several videos (``?video=ID&video=ID``), or with none every change in the library."""
    named = [v for arg in request.args.getlist("video") for v in arg.split(",") if v]
    return _stream(streams.checked_ids(named) if named else None)


@bp.get("/videos/<video_id>/events")
def video_events(video_id: str) -> Response:
    return _stream([checked_id(video_id)])


#: The ids this stream gives its events: ``<video id>:<seq>``.
EVENT_ID = re.compile(r"\A([0-9a-f]{32}):([0-9]{1,18})\Z")


def _seen() -> dict[str, int]:
    """The snapshot a reconnecting client already has, from its ``Last-Event-ID``."""
    sent = request.headers.get("Last-Event-ID", "")
    if not sent:
        return {}
    match = EVENT_ID.match(sent)
    if match is None:
        raise InvalidInput(
            "Last-Event-ID must be an id this stream sent (<video id>:<seq>); reconnect without it.",
            code="bad_event_id",
        )
    return {match[1]: int(match[2])}


def _stream(video_ids: list[str] | None) -> Response:
    seen = _seen()
    hub = streams.hub()  # the stream closes after this request's context has gone
    admission = streams.cap().admit(client_id(), "sse")
    admission.__enter__()  # a 429 here, before the stream starts
    follower = None
    try:
        follower, missing = hub.follow(video_ids, seen, owner_filter(current_user()))
        if missing:
            raise streams.not_found(missing)
    except BaseException as exc:
        # Whatever stopped the stream before it began, it is not counted open.
        if follower is not None:
            hub.close(follower)
        admission.__exit__(None, None, None)
        if isinstance(exc, redis.RedisError):
            raise Unavailable("Redis cannot be reached; try again shortly.") from exc
        raise

    def closed() -> None:
        hub.close(follower)
        admission.__exit__(None, None, None)

    keepalive = services().settings.stream_keepalive
    events = _events(follower, keepalive, revocation.watch())
    response = Response(events, mimetype="text/event-stream", headers=HEADERS)
    response.call_on_close(closed)
    return response


def _events(
    follower: Follower, keepalive: float, watch: revocation.Watch | revocation.Unwatched
) -> Iterator[str]:
    yield "retry: 2000\n\n"
    while not follower.dropped:
        taken = follower.take(min(keepalive, watch.next_check_in()))
        if (reason := watch.ended()) is not None:
            yield f"event: end\ndata: {json.dumps({'reason': reason})}\n\n"
            return
        if not taken:
            if not follower.dropped:
                yield ": keep-alive\n\n"
            continue
        yield "".join(f"id: {s.video_id}:{s.seq}\nevent: video\ndata: {s.body}\n\n" for s in taken)
        if follower.finished:
            yield "event: end\ndata: {}\n\n"
            return
