"""This web process's services: the core's clients and the Celery app it sends work with,
made once at start and reached by every request handler through ``services()`` (as the
Flask tutorial's ``db.py``: ``init_app`` makes them, beside the app; a getter reaches them)."""

from __future__ import annotations

from celery import Celery
from flask import Flask, current_app

from tasks.celery import make_celery
from transcoder.ops import broker
from transcoder.services import Services, build_services
from transcoder.settings import Settings
from transcoder.storage import scratch
from transcoder.work import recovery


def init_app(app: Flask, settings: Settings) -> None:
    """Build the clients, and refuse to start on a broker that cannot be used; bring the
    catalog's schema up to date; sweep the uploads a killed web process left half-received."""
    svc = app.extensions["transcoder"] = build_services(settings)
    broker.require(settings, svc.redis)
    recovery.prepare(svc)
    scratch.clean(settings.scratch_dir)
    app.extensions["celery"] = make_celery(settings)


def services() -> Services:
    """The clients this web process built at start (``init_app``)."""
    return current_app.extensions["transcoder"]


def celery() -> Celery:
    """The Celery app this process sends a video's work with (``tasks.workflow``)."""
    return current_app.extensions["celery"]
