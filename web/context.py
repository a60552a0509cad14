"""What every request handler of the web app reaches for: this process's services (as Flask's
``get_db``, beside the app that made them) and a checked video id."""

from __future__ import annotations

import re

from flask import current_app

from transcoder.errors import VideoNotFound
from transcoder.services import Services

VIDEO_ID = re.compile(r"\A[0-9a-f]{32}\Z")


def services() -> Services:
    """The clients this web process built at start (``create_app``)."""
    return current_app.extensions["transcoder"]


def checked_id(video_id: str) -> str:
    """Ids are ours (uuid4 hex); anything else never reaches Redis or storage."""
    if not VIDEO_ID.match(video_id):
        raise VideoNotFound(f"No video with id {video_id[:64]!r}.")
    return video_id
