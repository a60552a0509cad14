"""Thin tasks over ``transcoder.transcode``: arguments in, outcome recorded in Redis.

The run whose outcome ends the video enqueues ``close``, its callback. A part
that failed for a passing reason (ffmpeg killed by a signal, stalled) has been
queued again in the video's state; the task then asks Celery to run it again after
a pause that doubles with each attempt (``transcoder`` caps the attempts).
"""

from __future__ import annotations

from celery import Task

from transcoder import transcode

from .celery import app, services
from .config import CLOSE_TASK, ENCODE_TASK, PREVIEWS_TASK


@app.task(name=ENCODE_TASK, bind=True, max_retries=None)
def encode(self: Task, video_id: str, rendition: str) -> None:
    """Encode one rung: its MP4 and its HLS segments."""
    _run(self, lambda: transcode.encode_rendition(services(), video_id, rendition, _worker(self)), video_id)


@app.task(name=PREVIEWS_TASK, bind=True, max_retries=None)
def previews(self: Task, video_id: str) -> None:
    """Make the poster and the storyboard."""
    _run(self, lambda: transcode.make_previews(services(), video_id, _worker(self)), video_id)


@app.task(name=CLOSE_TASK)
def close(video_id: str) -> None:
    """Callback once all a video's work has ended: close the video (idempotent)."""
    transcode.close_video(services(), video_id)


def _run(task: Task, work, video_id: str) -> None:  # type: ignore[no-untyped-def]
    try:
        ended = work()
    except transcode.RetryLater as later:
        raise task.retry(countdown=later.countdown) from later
    if ended:
        close.delay(video_id)


def _worker(task: Task) -> str:
    return task.request.hostname or ""
