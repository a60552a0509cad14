"""Enqueueing a video's work: the one thing the web app asks of ``tasks``.

Tasks are addressed by name, so the sender needs no task code. A video's work is
a group of independent tasks: one per rung, lowest first so the video becomes
playable soonest, with the previews right after the lowest rung. Chunked encoding
will change what the group holds, not how it is sent.

The closing callback is not a Celery chord: on Redis a re-delivered header task
can fire a chord early. Instead each task records its outcome in the video's
state atomically, and the one whose update ends the video enqueues ``close``
(see ``tasks.transcode``), so it runs once, after all the work has ended.
"""

from __future__ import annotations

from celery import Celery, Signature, group

from transcoder import jobs

from .config import ENCODE_TASK, PREVIEWS_TASK


def plan(celery: Celery, video: jobs.Video) -> list[Signature]:
    rungs = [
        celery.signature(ENCODE_TASK, args=(video["id"], r["name"]), immutable=True)
        for r in video["renditions"]
    ]
    previews = celery.signature(PREVIEWS_TASK, args=(video["id"],), immutable=True)
    return [*rungs[:1], previews, *rungs[1:]]


def submit(celery: Celery, video: jobs.Video) -> None:
    """Send all of a video's work to the workers."""
    # The sender never waits for these, so it must not subscribe to their results.
    group(plan(celery, video), app=celery).apply_async(ignore_result=True)
