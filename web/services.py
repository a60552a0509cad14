"""This web process's services: the core's clients and the Celery app it sends work with,
made once at start and reached by every request handler through ``services()`` (as the
Flask tutorial's ``db.py``: ``init_app`` makes them, beside the app; a getter reaches them)."""

from __future__ import annotations

import logging
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
    mark a new Redis loaded before the first upload."""
    # Here, not above: ``tasks.celery`` makes its Celery app as it is imported, which a
    # module that only reaches the services (a unit test's import) need not pay for.
    from tasks.celery import make_celery

    svc = app.extensions["transcoder"] = build_services(settings)
    brokers.of(settings).require(svc.redis)
    recovery.prepare(svc)
    scratch.clean(settings.scratch_dir)
    app.extensions["celery"] = make_celery(settings)
    mark_new_redis(svc)


def mark_new_redis(svc: Services) -> None:
    """A new Redis is marked loaded before this process takes an upload (see
    ``recovery.mark_new``). A Redis or catalog out of reach does not stop a start: the
    workers' sweep marks it; anything else unforeseen is logged, never fatal here."""
    try:
        if recovery.mark_new(svc):
            log.info("recovery: a new Redis, nothing to put back")
    except (redis.RedisError, CatalogUnavailable) as exc:
        log.warning("recovery: the new Redis is left to the workers' sweep to mark: %s", exc)
    except Exception:  # a start must not fail on what the sweep does anyway
        log.exception("recovery: the new Redis is left to the workers' sweep to mark")


def services() -> Services:
    """The clients this web process built at start (``init_app``)."""
    return current_app.extensions["transcoder"]


def celery() -> Celery:
    """The Celery app this process sends a video's work with (``tasks.workflow``)."""
    return current_app.extensions["celery"]
