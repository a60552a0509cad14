"""This web process's services: the core's clients and the Celery app it sends work with,
made once at start and reached by every request handler through ``services()`` (as the
Flask tutorial's ``db.py``: ``init_app`` makes them, beside the app; a getter reaches them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

from transcoder import brokers
from transcoder.services import Services, build_services
from transcoder.settings import Settings
from transcoder.storage import scratch
from transcoder.work import recovery

if TYPE_CHECKING:
    from celery import Celery


def init_app(app: Flask, settings: Settings) -> None:
    """Build the clients, and refuse to start on a broker that cannot be used; bring the
    catalog's schema up to date; sweep the uploads a killed web process left half-received."""
    # Here, not above: ``tasks.celery`` makes its Celery app as it is imported, which a
    # module that only reaches the services (a unit test's import) need not pay for.
    from tasks.celery import make_celery

    svc = app.extensions["transcoder"] = build_services(settings)
    brokers.of(settings).require(svc.redis)
    recovery.prepare(svc)
    scratch.clean(settings.scratch_dir)
    app.extensions["celery"] = make_celery(settings)


def services() -> Services:
    """The clients this web process built at start (``init_app``)."""
    return current_app.extensions["transcoder"]


def celery() -> Celery:
    """The Celery app this process sends a video's work with (``tasks.workflow``)."""
    return current_app.extensions["celery"]
