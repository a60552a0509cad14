"""May this user see this video: an admin sees every one, an uploader only their own.
Every route that names a video reaches it here, through a checked id."""

from __future__ import annotations

import re

from transcoder.accounts.users import User
from transcoder.errors import VideoNotFound
from transcoder.records.states import Video

from ..services import services
from .identity import current_user

VIDEO_ID = re.compile(r"\A[0-9a-f]{32}\Z")


def owned_video(video_id: str) -> Video:
    """The video with this id, if this request's user may see it. Another's is "not
    found", so ids are not confirmed."""
    video = services().videos.get(checked_id(video_id))
    if not may_see(current_user(), video):
        raise VideoNotFound(f"No video with id {video_id!r}.")
    return video


def may_see(user: User, video: Video) -> bool:
    return user.admin or video.get("owner") == user.id


def owner_filter(user: User) -> str | None:
    """Whose videos this user's lists and streams hold: None is everyone's (an admin's)."""
    return None if user.admin else user.id


def checked_id(video_id: str) -> str:
    """Ids are ours (uuid4 hex); anything else never reaches Redis or storage."""
    if not VIDEO_ID.match(video_id):
        raise VideoNotFound(f"No video with id {video_id[:64]!r}.")
    return video_id
