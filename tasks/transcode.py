"""Thin tasks over ``transcoder.work.actions``: arguments in, outcome recorded in Redis.

A part's run says what follows it: the parts it released (the join, once the last
part it waits for is ready) are sent, and the run that ended the video enqueues
``close``. A part that failed for a passing reason (ffmpeg killed by a signal,
stalled) has been queued again in the video's state; the task then asks Celery to
run it again after a pause that doubles with each attempt (``transcoder`` caps the attempts).
"""

from __future__ import annotations

import logging

from celery import Task

from transcoder.errors import RetryLater, VideoNotFound
from transcoder.work import actions

from .celery import app, services
from .config import CLOSE_TASK, PART_TASK
from .workflow import send, submit

log = logging.getLogger(__name__)


@app.task(name=PART_TASK, bind=True, max_retries=None)
def part(self: Task, video_id: str, part_id: str) -> None:
    """Run one part of a video: a time range into its renditions, the sound, or the join."""
    try:
        outcome = actions.run_part(services(), video_id, part_id, self.request.hostname or "")
    except RetryLater as later:
        raise self.retry(countdown=later.countdown) from later
    except VideoNotFound:
        log.info("video %s was deleted: %s has nothing to do", video_id, part_id)
        return
    if outcome.follow:
        send(app, video_id, outcome.follow)
    if outcome.ended:
        close.delay(video_id)


@app.task(name=CLOSE_TASK)
def close(video_id: str) -> None:
    """Callback once all a video's work has ended: close the video (idempotent); the videos
    that followed it and now encode on their own are sent."""
    try:
        _, released = actions.close_video(services(), video_id)
    except VideoNotFound:
        log.info("video %s was deleted before it was closed", video_id)
        return
    for video in released:
        submit(app, video)
