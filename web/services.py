"""This web process's services: the core's clients and the Celery app it sends work with,
made once at start and reached by every request handler through ``services()`` (as the
Flask tutorial's ``db.py``: ``init_app`` makes them, beside the app; a getter reaches them)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import redis
from flask import Flask, current_app

from transcoder import brokers
from transcoder.errors import CatalogUnavailable
from transcoder.services import Services, build_services
from transcoder.settings import Settings
from transcoder.storage import scratch
from transcoder.work import recovery

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger(__name__)


def init_app(app: Flask, settings: Settings) -> None:
    """Build the clients, and refuse to start on a broker that cannot be used; bring the
    catalog's schema up to date; sweep the uploads a killed web process left half-received;
    put back what a Redis that lost everything held, before the first upload."""
    # Here, not above: ``tasks.celery`` makes its Celery app as it is imported, which a
    # module that only reaches the services (a unit test's import) need not pay for.
    from tasks.celery import make_celery
    from tasks.workflow import send_part

    svc = app.extensions["transcoder"] = build_services(settings)
    brokers.of(settings).require(svc.redis)
    recovery.prepare(svc)
    scratch.clean(settings.scratch_dir)
    celery = app.extensions["celery"] = make_celery(settings)
    recover_before_uploads(svc, lambda video_id, part: send_part(celery, video_id, part))


def recover_before_uploads(svc: Services, send: Callable[[str, str], None]) -> None:
    """A Redis that is new, or lost everything, is made whole before this process takes
    an upload. Left to the workers' first sweep (``TRANSCODER_SWEEP_SECONDS`` after one
    starts), a video accepted meanwhile would be taken for a lost one and its parts sent
    twice. A Redis or catalog out of reach does not stop a start: the sweep recovers."""
    try:
        recovery.recover(svc, send, time.time())
    except (redis.RedisError, CatalogUnavailable) as exc:
        log.warning("recovery at start put off to the workers' sweep: %s", exc)


def services() -> Services:
    """The clients this web process built at start (``init_app``)."""
    return current_app.extensions["transcoder"]


def celery() -> Celery:
    """The Celery app this process sends a video's work with (``tasks.workflow``)."""
    return current_app.extensions["celery"]
