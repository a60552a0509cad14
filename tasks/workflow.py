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


def parts_in_order(video: jobs.Video) -> list[str]:
    """The lowest rung first (playable soonest), then the previews, then the other rungs."""
    rungs = [r["name"] for r in video["renditions"]]
    return [*rungs[:1], jobs.PREVIEWS, *rungs[1:]]


def submit(celery: Celery, video: jobs.Video) -> None:
    """Send all of a video's work to the workers."""
    send(celery, video["id"], parts_in_order(video))


def send(celery: Celery, video_id: str, parts: list[str]) -> None:
    """Send some of a video's parts: all of them, the failed ones again, or one the sweeper found."""
    signatures = [_signature(celery, video_id, name) for name in parts]
    # The sender never waits for these, so it must not subscribe to their results.
    group(signatures, app=celery).apply_async(ignore_result=True)


def send_part(celery: Celery, video_id: str, part: str) -> None:
    send(celery, video_id, [part])


def _signature(celery: Celery, video_id: str, part: str) -> Signature:
    if part == jobs.PREVIEWS:
        return celery.signature(PREVIEWS_TASK, args=(video_id,), immutable=True)
    return celery.signature(ENCODE_TASK, args=(video_id, part), immutable=True)
