"""Celery app and tasks; ``celery -A tasks worker`` loads ``tasks.celery.app``."""

from .celery import app

__all__ = ["app"]
