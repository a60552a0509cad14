"""Enqueueing a video's work: the one thing the web app asks of ``tasks``.

Tasks are addressed by name, so the sender needs no task code. A video's work is
its parts, sent in the planner's order (the sound and the first chunk first, so
the video plays soonest); the join waits in the video's state until every other
part is ready, and is sent by the run that finished the last of them.

The closing callback is not a Celery chord: on Redis a re-delivered header task
can fire a chord early. Instead each task records its outcome in the video's
state atomically, and the one whose update ends the video enqueues ``close``
(see ``tasks.transcode``), so it runs once, after all the work has ended.
"""

from __future__ import annotations

from celery import Celery, Signature, group

from transcoder.records import states, transitions

from .config import PART_TASK


def submit(celery: Celery, video: states.Video) -> None:
    """Send all of a video's work that can start now."""
    send(celery, video["id"], transitions.dispatchable(video))


def send(celery: Celery, video_id: str, parts: list[str]) -> None:
    """Send some of a video's parts: all of them, the failed ones again, or one the sweeper found."""
    if not parts:
        return
    signatures = [_signature(celery, video_id, part_id) for part_id in parts]
    # The sender never waits for these, so it must not subscribe to their results.
    group(signatures, app=celery).apply_async(ignore_result=True)


def send_part(celery: Celery, video_id: str, part: str) -> None:
    send(celery, video_id, [part])


def _signature(celery: Celery, video_id: str, part_id: str) -> Signature:
    # Every part, the join included, goes to the encoding queue: a cluster whose machines take
    # only that queue (``QUEUES=parts``) still finishes its videos.
    return celery.signature(PART_TASK, args=(video_id, part_id), immutable=True)
