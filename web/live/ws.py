"""The WebSocket at ``/api/ws``: follow and unfollow videos on one connection.

The client sends ``{"subscribe": [ids]}``, ``{"unsubscribe": [ids]}``, or ``"all"`` in
place of the list for every video in the library; the server sends each followed
video's snapshot (the JSON of ``GET /api/videos/<id>``), the current one first, and
``{"error": {...}}`` for a message it cannot act on. A video that ends is sent once
more and then left; the connection stays open until the client closes it, or until the
credential it was opened with is revoked (signed out, key revoked, user disabled or
given a new password): then, within one keep-alive interval, a close frame 1008 whose
message is the reason (``web.auth.revocation``).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import redis
from flask import Blueprint, Flask, current_app
from flask_sock import ConnectionClosed, Sock
from simple_websocket import Server

from transcoder.errors import TranscoderError
from transcoder.live.follower import Follower

from ..auth import revocation
from ..auth.access import owner_filter
from ..auth.identity import client_id, current_user
from ..services import services
from . import streams

bp = Blueprint("ws", __name__, url_prefix="/api")
sock = Sock()
log = logging.getLogger(__name__)

#: The largest message a client may send: 500 ids to follow fit in 20 KB. A larger one
#: closes the connection (1009) before it is held in memory.
MAX_MESSAGE_BYTES = 64 * 1024


def init_app(app: Flask) -> None:
    # The server pings; a client that stops answering is closed after one more interval.
    app.config["SOCK_SERVER_OPTIONS"] = {
        "ping_interval": app.extensions["transcoder"].settings.stream_keepalive,
        "max_message_size": MAX_MESSAGE_BYTES,
    }
    sock.init_app(app)
    app.register_blueprint(bp)


@bp.before_request
def _room_for_one_more() -> None:
    """Refuse past the per-client cap with a 429, before the connection is upgraded."""
    with streams.cap().admit(client_id(), "ws"):
        pass


@sock.route("/ws", bp=bp)
def socket(ws: Server) -> None:
    with streams.cap().admit(client_id(), "ws"):
        follower, _ = streams.hub().follow([], owner=owner_filter(current_user()))
        sending = threading.Lock()

        def send(payload: str) -> None:
            with sending:
                ws.send(payload)

        app = current_app._get_current_object()
        reader = threading.Thread(target=_read, args=(app, ws, follower, send), daemon=True)
        reader.start()
        keepalive = services().settings.stream_keepalive
        watch = revocation.watch()
        try:
            while not follower.closed and not follower.dropped and watch.ended() is None:
                for snap in follower.take(min(keepalive, watch.next_check_in())):
                    send(snap.body)
        except ConnectionClosed:
            pass
        finally:
            streams.hub().close(follower)
        if follower.dropped:
            ws.close(reason=1013, message="too slow: reconnect for the current state")
        elif (reason := watch.ended()) is not None:
            ws.close(reason=1008, message=reason)


def _read(app: Flask, ws: Server, follower: Follower, send: Any) -> None:
    """Apply the client's messages until it goes; then end the connection's stream."""
    try:
        while True:
            text = ws.receive()
            if text is None:
                continue
            with app.app_context():
                try:
                    error = apply_message(follower, text)
                except Exception:  # a bug of ours must not end the client's connection
                    log.exception("WebSocket message not applied")
                    error = {"code": "internal", "message": "This message could not be applied."}
            if error is not None:
                send(json.dumps({"error": error}))
    except ConnectionClosed:
        pass
    finally:
        # This thread has no app context of its own: without one the hub cannot be found,
        # the stream would never learn its client went, and its place would stay taken.
        with app.app_context():
            streams.hub().close(follower)


def apply_message(follower: Follower, text: str | bytes) -> dict[str, Any] | None:
    try:
        message = json.loads(text)
        if not isinstance(message, dict):
            raise ValueError
    except (ValueError, RecursionError):
        return {"code": "bad_request", "message": 'Send JSON such as {"subscribe": ["<video id>"]}.'}
    try:
        for action in ("subscribe", "unsubscribe"):
            wanted = message.get(action)
            if wanted is None:
                continue
            if wanted == "all":
                streams.hub().follow_everything(follower, action == "subscribe")
                continue
            if not isinstance(wanted, list) or not all(isinstance(v, str) for v in wanted):
                return {"code": "bad_request", "message": f'"{action}" takes a list of video ids or "all".'}
            ids = streams.checked_ids(wanted)
            if action == "unsubscribe":
                streams.hub().remove(follower, ids)
            elif missing := streams.hub().add(follower, ids):
                streams.hub().remove(follower, missing)
                return {**streams.not_found(missing).to_dict(), "videos": missing}
    except TranscoderError as exc:
        return exc.to_dict()
    except redis.RedisError:
        return {"code": "unavailable", "message": "Redis cannot be reached; subscribe again shortly."}
    return None
