"""Thin tasks over ``transcoder.transcode``: arguments in, outcome recorded in Redis.

The run whose outcome ends the video enqueues ``close``, its callback.
"""

from __future__ import annotations

from celery import Task

from transcoder import transcode

from .celery import app, services
from .config import CLOSE_TASK, ENCODE_TASK, PREVIEWS_TASK


@app.task(name=ENCODE_TASK, bind=True)
def encode(self: Task, video_id: str, rendition: str) -> None:
    """Encode one rung: its MP4 and its HLS segments."""
    if transcode.encode_rendition(services(), video_id, rendition, worker=self.request.hostname or ""):
        close.delay(video_id)


@app.task(name=PREVIEWS_TASK, bind=True)
def previews(self: Task, video_id: str) -> None:
    """Make the poster and the storyboard."""
    if transcode.make_previews(services(), video_id, worker=self.request.hostname or ""):
        close.delay(video_id)


@app.task(name=CLOSE_TASK)
def close(video_id: str) -> None:
    """Callback once all a video's work has ended: close the video (idempotent)."""
    transcode.close_video(services(), video_id)
