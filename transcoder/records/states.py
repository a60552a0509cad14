"""The words a video's state is written in: its states, and how to find its parts. No I/O.

The document's types (``Video``, ``PartEntry``...) live in ``transcoder.records.document``
and are read from here too, beside the words.
"""

from __future__ import annotations

from enum import StrEnum

from transcoder.errors import VideoNotFound
from transcoder.records.document import PartEntry, PartResults, RenditionEntry, Video


class VideoState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    CANCELED = "canceled"


class PartState(StrEnum):
    """The state of a part, and of a rendition or the previews (the same five words)."""

    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    CANCELED = "canceled"


TERMINAL = {VideoState.READY, VideoState.FAILED, VideoState.CANCELED}
PART_TERMINAL = {PartState.READY, PartState.FAILED, PartState.CANCELED}


def part(video: Video, part_id: str) -> PartEntry:
    for entry in video["parts"]:
        if entry["id"] == part_id:
            return entry
    raise VideoNotFound(f"Video {video['id']} has no part {part_id!r}.")


def results_of(entry: PartEntry) -> PartResults:
    """What a part produced: empty until it is ready."""
    return entry["results"] or {}


def sound_of(video: Video, bitrate_k: int) -> PartEntry | None:
    """The part that encodes the sound at this bitrate (None for a silent video)."""
    return next((p for p in video["parts"] if p["kind"] == "audio" and p["bitrate_k"] == bitrate_k), None)


def rendition(video: Video, name: str) -> RenditionEntry:
    for entry in video["renditions"]:
        if entry["name"] == name:
            return entry
    raise VideoNotFound(f"Video {video['id']} has no {name} rendition.")


def video_parts(video: Video, rendition_name: str | None = None) -> list[PartEntry]:
    """The parts that encode pictures (of one rendition), in time order."""
    found = [
        p
        for p in video["parts"]
        if p["kind"] == "video" and (rendition_name is None or rendition_name in p["rungs"])
    ]
    return sorted(found, key=lambda p: p["start"])


def milestone(video: Video) -> tuple[str, tuple[str, ...], int]:
    """What the catalog must keep of a video: its state, each part's, and what it keeps in
    storage. A change that leaves these alone (progress) is live only, and never costs a
    database write."""
    return video["state"], tuple(p["state"] for p in video["parts"]), video.get("stored_bytes") or 0
