"""A video's state: its parts of work, and the renditions they add up to. Pure, no I/O.

A video is one JSON document. Its ``parts`` are the units of work the planner cut
(see ``transcoder.planner``), each with its own state, attempts and results; its
``renditions`` and ``previews`` are what the API shows, summed up from the parts
by ``summarize`` after every transition, so the two never disagree.
Transitions return True when they changed the document; ``transcoder.store``
applies each atomically.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from .errors import VideoNotFound
from .ladder import Rendition
from .planner import AUDIO, JOIN, Part
from .probe import MediaInfo

Video = dict[str, Any]


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


RungState = PartState
TERMINAL = {VideoState.READY.value, VideoState.FAILED.value, VideoState.CANCELED.value}
PART_TERMINAL = {PartState.READY.value, PartState.FAILED.value, PartState.CANCELED.value}
RUNG_TERMINAL = PART_TERMINAL


def new_video_id() -> str:
    return uuid.uuid4().hex


def new_video(
    video_id: str,
    filename: str,
    media: MediaInfo,
    renditions: list[Rendition],
    parts: list[Part],
    now: float,
) -> Video:
    video = {
        "id": video_id,
        "state": VideoState.QUEUED.value,
        "error": None,
        "filename": filename,
        "created_at": now,
        "finished_at": None,
        "seq": 0,
        "source": media.to_dict(),
        "renditions": [
            {
                **r.to_dict(),
                "state": "queued",
                "progress": 0.0,
                "fps": None,
                "eta_seconds": None,
                "error": None,
            }
            for r in renditions
        ],
        "previews": {"state": PartState.QUEUED.value, "error": None, "storyboard": None},
        "parts": [
            {
                **p.to_dict(),
                "state": PartState.QUEUED.value,
                "progress": 0.0,
                "fps": None,
                "eta_seconds": None,
                "error": None,
                "attempts": 0,
                "outages": 0,
                "worker": None,
                "started_at": None,
                "retry_at": None,
                "last_error": None,
                "released": not p.after,
                "results": None,
            }
            for p in parts
        ],
    }
    summarize(video)
    return video


def part(video: Video, part_id: str) -> dict[str, Any]:
    for entry in video["parts"]:
        if entry["id"] == part_id:
            return entry
    raise VideoNotFound(f"Video {video['id']} has no part {part_id!r}.")


def rung(video: Video, name: str) -> dict[str, Any]:
    for entry in video["renditions"]:
        if entry["name"] == name:
            return entry
    raise VideoNotFound(f"Video {video['id']} has no {name} rendition.")


def video_parts(video: Video, rung_name: str | None = None) -> list[dict[str, Any]]:
    """The parts that encode pictures (of one rendition), in time order."""
    found = [
        p for p in video["parts"] if p["kind"] == "video" and (rung_name is None or rung_name in p["rungs"])
    ]
    return sorted(found, key=lambda p: p["start"])


def running_parts(videos: list[Video]) -> list[tuple[str, dict[str, Any]]]:
    """(part id, part) for every part of these videos that is running now."""
    return [(p["id"], p) for video in videos for p in video["parts"] if p["state"] == PartState.RUNNING.value]


def dispatchable(video: Video) -> list[str]:
    """The parts to send to workers now: queued, and not waiting for other parts."""
    return [p["id"] for p in video["parts"] if p["state"] == PartState.QUEUED.value and p["released"]]


# --- transitions: each returns True when it changed the document -------------


def start_part(video: Video, part_id: str, worker: str, now: float | None = None) -> bool:
    """Mark a part running; a finished one, or a join still waiting for its parts, is left alone."""
    entry = part(video, part_id)
    if entry["state"] in PART_TERMINAL or video["state"] in TERMINAL or not entry["released"]:
        return False
    # Progress is kept from an earlier attempt: a bar never goes back.
    entry.update(state=PartState.RUNNING.value, retry_at=None, fps=None, eta_seconds=None, worker=worker)
    entry["attempts"] += 1
    entry["started_at"] = now
    video["state"] = VideoState.PROCESSING.value
    summarize(video)
    return True


def report_progress(video: Video, part_id: str, percent: float, fps: float | None, eta: float | None) -> bool:
    entry = part(video, part_id)
    if entry["state"] != PartState.RUNNING.value:
        return False
    # Never let a bar go backwards, whatever order reports arrive in.
    entry["progress"] = round(max(entry["progress"], min(percent, 100.0)), 1)
    entry["fps"] = None if fps is None else round(fps, 1)
    entry["eta_seconds"] = None if eta is None else round(eta, 1)
    summarize(video)
    return True


def finish_part(video: Video, part_id: str, now: float, results: dict[str, Any] | None = None) -> bool:
    """Mark a part ready with what it produced; the video closes if it was the last."""
    entry = part(video, part_id)
    if entry["state"] in PART_TERMINAL or video["state"] in TERMINAL:
        return False
    entry.update(state=PartState.READY.value, error=None, progress=100.0, eta_seconds=0.0, results=results)
    summarize(video)
    settle(video, now)
    return True


def release(video: Video, now: float) -> list[str]:
    """Parts whose wait just ended (all they come after are ready): marked due now, so the
    sweeper sends them again if the message that should start them is lost."""
    ready = {p["id"] for p in video["parts"] if p["state"] == PartState.READY.value}
    released = []
    for entry in video["parts"]:
        if (
            not entry["released"]
            and set(entry["after"]) <= ready
            and entry["state"] == PartState.QUEUED.value
        ):
            entry.update(released=True, retry_at=now)
            released.append(entry["id"])
    return released


def fail_part(video: Video, part_id: str, error: dict[str, str], now: float) -> bool:
    entry = part(video, part_id)
    if entry["state"] in PART_TERMINAL or video["state"] in TERMINAL:
        return False
    entry.update(state=PartState.FAILED.value, error=error, eta_seconds=None)
    summarize(video)
    settle(video, now)
    return True


def requeue_part(
    video: Video,
    part_id: str,
    error: dict[str, str],
    now: float,
    *,
    max_attempts: int,
    retry_at: float | None = None,
    outage: bool = False,
    max_outages: int = 0,
) -> bool:
    """Put a running part back in the queue after a failure worth retrying, or fail it for good.

    ``error`` says what went wrong; after ``max_attempts`` starts the part fails with it,
    so an input that kills its worker every time cannot loop forever. An ``outage``
    (storage out of reach) says nothing of the input: that start is given back, and
    the part fails only after ``max_outages`` of them.
    """
    entry = part(video, part_id)
    if entry["state"] != PartState.RUNNING.value or video["state"] in TERMINAL:
        return False
    if outage:
        entry["attempts"] -= 1
        entry["outages"] += 1
        if entry["outages"] > max_outages:
            reason = {
                "code": error["code"],
                "message": f"{error['message']} It stayed out of reach, so we stopped trying.",
            }
            return fail_part(video, part_id, reason, now)
    elif entry["attempts"] >= max_attempts:
        reason = {
            "code": error["code"],
            "message": f"{error['message']} This happened {entry['attempts']} times, so we stopped trying.",
        }
        return fail_part(video, part_id, reason, now)
    entry.update(
        state=PartState.QUEUED.value, retry_at=retry_at, eta_seconds=None, fps=None, last_error=error
    )
    summarize(video)
    return True


def cancel(video: Video, now: float) -> bool:
    """Stop a video for good: every part not yet ended is canceled with it."""
    if video["state"] in TERMINAL:
        return False
    for entry in video["parts"]:
        if entry["state"] not in PART_TERMINAL:
            entry.update(state=PartState.CANCELED.value, eta_seconds=None)
    video.update(
        state=VideoState.CANCELED.value,
        error={"code": "canceled", "message": "This video was canceled."},
        finished_at=now,
    )
    summarize(video)
    return True


def retry_failed(video: Video) -> list[str]:
    """Queue a failed video's failed parts again (their finished siblings are kept);
    returns the ids of those that can start now."""
    if video["state"] != VideoState.FAILED.value:
        return []
    for entry in video["parts"]:
        if entry["state"] == PartState.FAILED.value:
            # A fresh budget: storage outages and the last passing error are forgotten too,
            # or a part that failed for outages would fail again at its first one after Retry.
            entry.update(
                state=PartState.QUEUED.value,
                error=None,
                attempts=0,
                outages=0,
                last_error=None,
                retry_at=None,
            )
    video.update(state=VideoState.PROCESSING.value, error=None, finished_at=None)
    summarize(video)
    return dispatchable(video)


def _blocked(video: Video, entry: dict[str, Any]) -> bool:
    """A part that waits for one that failed: it cannot run until a retry."""
    failed = {p["id"] for p in video["parts"] if p["state"] == PartState.FAILED.value}
    return entry["state"] == PartState.QUEUED.value and bool(failed & set(entry["after"]))


def settle(video: Video, now: float) -> bool:
    """Close the video once all its work has ended; the first caller to see that wins."""
    if video["state"] in TERMINAL:
        return False
    if any(e["state"] not in PART_TERMINAL and not _blocked(video, e) for e in video["parts"]):
        return False
    failed = [e for e in video["parts"] if e["state"] == PartState.FAILED.value]
    if failed:
        names = [r["name"] for r in video["renditions"] if r["state"] == PartState.FAILED.value]
        first = failed[0]["error"] or {}
        video["state"] = VideoState.FAILED.value
        video["error"] = {
            "code": first.get("code", "encode_failed"),
            "message": f"The {', '.join(names)} rendition failed: {first.get('message', 'unknown reason')}",
        }
    else:
        video["state"] = VideoState.READY.value
    video["finished_at"] = now
    return True


# --- what the API shows, summed up from the parts -----------------------------


def summarize(video: Video) -> None:
    """Each rendition's state, progress, speed and ETA, and the previews', from the parts."""
    parts = {p["id"]: p for p in video["parts"]}
    join, audio = parts.get(JOIN), parts.get(AUDIO)
    shared = [p for p in (audio, join) if p is not None]
    for rendition in video["renditions"]:
        own = video_parts(video, rendition["name"])
        rendition.update(_summary(video, own, shared, join))
    previews = video["previews"]
    previews["state"] = _previews_state(video, join)
    results = (join or {}).get("results") or {}
    previews["storyboard"] = results.get("storyboard")
    previews["error"] = (join or {}).get("error")


def _summary(
    video: Video, own: list[dict[str, Any]], shared: list[dict[str, Any]], join: dict[str, Any] | None
) -> dict[str, Any]:
    everything = own + shared
    states = {p["state"] for p in everything}
    failed = next((p for p in everything if p["state"] == PartState.FAILED.value), None)
    if join is not None and join["state"] == PartState.READY.value:
        state = PartState.READY.value
    elif failed is not None:
        state = PartState.FAILED.value
    elif video["state"] == VideoState.CANCELED.value:
        state = PartState.CANCELED.value
    elif states & {PartState.RUNNING.value, PartState.READY.value}:
        state = PartState.RUNNING.value
    else:
        state = PartState.QUEUED.value
    seconds = sum(p["seconds"] for p in own) or 1.0
    progress = sum(p["progress"] * p["seconds"] for p in own) / seconds
    if state != PartState.READY.value:
        progress = min(progress, 99.9)
    running = [p for p in own if p["state"] == PartState.RUNNING.value]
    fps = round(sum(p["fps"] or 0 for p in running), 1) if running else None
    etas = [p["eta_seconds"] for p in running]
    waiting = any(p["state"] == PartState.QUEUED.value for p in own)
    eta = max(etas) if running and None not in etas and not waiting else None
    return {
        "state": state,
        "progress": 100.0 if state == PartState.READY.value else round(progress, 1),
        "fps": fps or None,
        "eta_seconds": 0.0 if state == PartState.READY.value else eta,
        "error": failed["error"] if failed is not None else None,
    }


def _previews_state(video: Video, join: dict[str, Any] | None) -> str:
    if join is None:
        return PartState.FAILED.value
    if join["state"] == PartState.READY.value:
        has = bool((join.get("results") or {}).get("storyboard"))
        return PartState.READY.value if has else PartState.FAILED.value
    if video["state"] == VideoState.CANCELED.value:
        return PartState.CANCELED.value
    if join["state"] == PartState.FAILED.value:
        return PartState.FAILED.value
    return (
        PartState.RUNNING.value if video["state"] == VideoState.PROCESSING.value else PartState.QUEUED.value
    )


def playable_rungs(video: Video) -> list[dict[str, Any]]:
    """Renditions a player can start now (lowest first): the sound and the rendition's first
    part are ready; later parts join the playlist as they finish."""
    audio = next((p for p in video["parts"] if p["kind"] == "audio"), None)
    if audio is not None and audio["state"] != PartState.READY.value:
        return []
    if video["state"] in (VideoState.FAILED.value, VideoState.CANCELED.value):
        return []
    playable = []
    for rendition in video["renditions"]:
        own = video_parts(video, rendition["name"])
        if own and own[0]["state"] == PartState.READY.value:
            playable.append(rendition)
    return playable


def overall_progress(video: Video) -> float:
    entries = video["renditions"]
    if video["state"] == VideoState.READY.value:
        return 100.0
    if not entries:
        return 0.0
    return round(sum(e["progress"] for e in entries) / len(entries), 1)
