"""The Flask app: HTTP API, event streams and the upload page."""

from __future__ import annotations

import gc
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from transcoder.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    # Imported here, not above: gunicorn imports ``web.server`` before gevent patches
    # the process, and nothing that opens sockets or starts threads may load before that.
    from flask import Flask

    from tasks.celery import make_celery
    from transcoder.services import build_services
    from transcoder.settings import Settings
    from transcoder.storage import scratch
    from transcoder.work import recovery

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    # Signs page sessions; a random one per process unless set (set it for several web processes).
    app.secret_key = settings.secret_key or secrets.token_bytes(32)
    svc = app.extensions["transcoder"] = build_services(settings)
    recovery.prepare(svc)
    scratch.clean(settings.scratch_dir)  # uploads a killed web process left half-received
    app.extensions["celery"] = make_celery(settings)

    from . import api, errors, live, live_events, live_socket, media, ops, pages, security
    from .upload_rate import UploadRate

    app.wsgi_app = UploadRate(app.wsgi_app, settings.upload_min_rate, settings.upload_rate_window)

    security.register(app, security.parse_keys(settings.api_keys), settings.host_names)
    app.register_blueprint(api.bp)
    live.register(app)
    app.register_blueprint(live_events.bp)
    live_socket.register(app)
    app.register_blueprint(media.bp)
    app.register_blueprint(pages.bp)
    ops.register(app, svc)
    errors.register(app)
    # What exists now lives as long as the process: the collector need not walk it again.
    # Without this, a full collection during a library page (50 videos' documents
    # decoded) took the page's p99 from 24 to 76 ms.
    gc.freeze()
    return app
