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

from transcoder import brokers
from transcoder.records import states, transitions
from transcoder.records.redis_keys import URGENT_QUEUE

from .config import PART_TASK


def submit(celery: Celery, video: states.Video) -> None:
    """Send all of a video's work that can start now. On SQS, whose queues keep no order,
    the urgent parts (what makes the video playable) go on a queue of their own."""
    urgent = urgent_parts(celery.conf.transcoder_settings.broker_url, video)
    send(celery, video["id"], transitions.dispatchable(video), urgent)


def urgent_parts(broker_url: str, video: states.Video) -> frozenset[str]:
    """The parts sent on the urgent queue: where queues keep no order (SQS), those the planner
    marked urgent; elsewhere none, as the parts queue keeps the planner's order, which puts
    them first."""
    if brokers.named(broker_url).keeps_order:
        return frozenset()
    return frozenset(p["id"] for p in video["parts"] if p.get("urgent"))


def send(celery: Celery, video_id: str, parts: list[str], urgent: frozenset[str] = frozenset()) -> None:
    """Send some of a video's parts: all of them, the failed ones again, or one the sweeper found."""
    if not parts:
        return
    signatures = [_signature(celery, video_id, part_id, part_id in urgent) for part_id in parts]
    # The sender never waits for these, so it must not subscribe to their results.
    group(signatures, app=celery).apply_async(ignore_result=True)


def send_part(celery: Celery, video_id: str, part: str) -> None:
    send(celery, video_id, [part])


def _signature(celery: Celery, video_id: str, part_id: str, urgent: bool) -> Signature:
    # Every part, the join included, goes to the encoding queue: a cluster whose machines take
    # only that queue (``QUEUES=parts``) still finishes its videos (and takes the urgent one too).
    options = {"queue": URGENT_QUEUE} if urgent else {}
    return celery.signature(PART_TASK, args=(video_id, part_id), immutable=True, options=options)
