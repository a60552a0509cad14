"""Resumable uploads over HTTP: the tus 1.0.0 routes at ``/api/uploads/`` (``api``); the
protocol itself is ``transcoder.uploads``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import api  # here: a module of this package imported alone loads only itself

    app.register_blueprint(api.bp)
