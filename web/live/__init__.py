"""Live progress: videos' snapshots pushed to browsers and scripts as they change.

``streams`` holds what every live stream of a web process shares (its hub, the
per-client cap); ``sse`` serves them as Server-Sent Events, ``ws`` on a WebSocket. The
two names are the kinds ``/metrics`` counts open streams by.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    # Here, not above: a module of this package imported alone (by another package, or a
    # unit test) loads only what it imports itself, not every view.
    from . import sse, streams, ws

    streams.init_app(app)
    app.register_blueprint(sse.bp)
    ws.init_app(app)
