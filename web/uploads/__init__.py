"""Resumable uploads over HTTP: the tus 1.0.0 routes at ``/api/uploads/`` (``uploads``); the
protocol itself is ``transcoder.uploads``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import uploads  # here: a module of this package imported alone loads only itself

    app.register_blueprint(uploads.bp)
