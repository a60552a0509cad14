"""Where each file of a video lives in storage: every key, and every preview's file name, in one place."""

from __future__ import annotations

#: The previews' file names, served as they are by the web app.
POSTER = "poster.jpg"
STORYBOARD_IMAGE = "storyboard.jpg"
STORYBOARD_VTT = "storyboard.vtt"
PREVIEW_FILES = (POSTER, STORYBOARD_IMAGE, STORYBOARD_VTT)


def video_prefix(video_id: str) -> str:
    """Everything one video owns."""
    return f"videos/{video_id}"


def source_key(video_id: str) -> str:
    return f"videos/{video_id}/source"


def rendition_key(video_id: str, name: str) -> str:
    return f"videos/{video_id}/{name}.mp4"


def hls_prefix(video_id: str, name: str) -> str:
    return f"videos/{video_id}/hls/{name}"


def part_prefix(video_id: str, name: str, part_id: str) -> str:
    """The HLS segments one part wrote for one rendition (or audio group ``name``)."""
    return f"{hls_prefix(video_id, name)}/{part_id}"


def tiles_prefix(video_id: str, part_id: str) -> str:
    """The storyboard tiles one part made, one JPEG each."""
    return f"videos/{video_id}/tiles/{part_id}"


def preview_key(video_id: str, filename: str) -> str:
    """``poster.jpg``, ``storyboard.jpg`` or ``storyboard.vtt``."""
    return f"videos/{video_id}/{filename}"


def staging_prefix(upload_id: str) -> str:
    """Everything an unfinished resumable upload keeps in object storage (one folder, so one
    delete removes it, multipart upload included)."""
    return f"uploads/{upload_id}"


def staging_key(upload_id: str) -> str:
    """The object a resumable upload's multipart upload completes to, read by the probe."""
    return f"uploads/{upload_id}/source"


def staging_tail_key(upload_id: str, end: int) -> str:
    """The bytes past a resumable upload's last whole part, ending at offset ``end``: each tail
    is a new object, so the one the catalog names is never overwritten."""
    return f"uploads/{upload_id}/tail/{end}"
