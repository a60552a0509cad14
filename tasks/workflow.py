"""Enqueueing a video's work: the one thing the web app asks of ``tasks``.

Tasks are addressed by name, so the sender needs no task code. The plan is a
list of independent encode tasks plus a closing callback; chunked encoding will
change what the list holds, not how it is sent.
"""

from __future__ import annotations

from celery import Celery, chord

from .config import CLOSE_TASK, ENCODE_TASK


def submit(celery: Celery, video_id: str, renditions: list[str]) -> None:
    """Fan a video out into one encode task per rendition, lowest first, then close it."""
    header = [celery.signature(ENCODE_TASK, args=(video_id, name), immutable=True) for name in renditions]
    body = celery.signature(CLOSE_TASK, args=(video_id,))
    chord(header, app=celery)(body)
