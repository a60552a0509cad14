"""Thin tasks over ``transcoder.transcode``: arguments in, outcome recorded in Redis."""

from __future__ import annotations

from celery import Task

from transcoder import transcode

from .celery import app, services
from .config import CLOSE_TASK, ENCODE_TASK


@app.task(name=ENCODE_TASK, bind=True)
def encode(self: Task, video_id: str, rendition: str) -> None:
    """Encode one rung; the run that ends the video enqueues its closing callback."""
    ended = transcode.encode_rendition(services(), video_id, rendition, worker=self.request.hostname or "")
    if ended:
        close.delay(video_id)


@app.task(name=CLOSE_TASK)
def close(video_id: str) -> None:
    """Callback once every rung has ended: close the video (idempotent) and tidy up."""
    transcode.close_video(services(), video_id)
