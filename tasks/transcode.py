"""Thin tasks over ``transcoder.transcode``: arguments in, outcome recorded in Redis."""

from __future__ import annotations

from celery import Task

from transcoder import transcode

from .celery import app, services
from .config import CLOSE_TASK, ENCODE_TASK


@app.task(name=ENCODE_TASK, bind=True)
def encode(self: Task, video_id: str, rendition: str) -> str:
    """Encode one rung; returns only the rung name, so a duplicate run returns the same value."""
    transcode.encode_rendition(services(), video_id, rendition, worker=self.request.hostname or "")
    return rendition


@app.task(name=CLOSE_TASK, ignore_result=True)
def close(_results: list[str] | None, video_id: str) -> None:
    """Chord callback: closes the video if its rungs have ended (the rungs usually did already)."""
    transcode.close_video(services(), video_id)
