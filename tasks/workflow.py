"""Enqueueing a video's work: the one thing the web app asks of ``tasks``.

Tasks are addressed by name, so the sender needs no task code. The plan is a
group of independent encode tasks; chunked encoding will change what the group
holds, not how it is sent.

The closing callback is not a Celery chord: on Redis a re-delivered header task
can fire a chord early. Instead each encode task records its rung in the video's
state atomically, and the one whose update ends the video enqueues ``close``
(see ``tasks.transcode.encode``), so it runs once, after every rung has ended.
"""

from __future__ import annotations

from celery import Celery, group

from .config import ENCODE_TASK


def submit(celery: Celery, video_id: str, renditions: list[str]) -> None:
    """Fan a video out into one encode task per rendition, lowest first."""
    header = [celery.signature(ENCODE_TASK, args=(video_id, name), immutable=True) for name in renditions]
    # The sender never waits for these, so it must not subscribe to their results.
    group(header, app=celery).apply_async(ignore_result=True)
