"""A video's state changes: pure functions on its document, no I/O.

A video is one JSON document. Its ``parts`` are the units of work the planner cut
(see ``transcoder.media.planner``), each with its own state, attempts and results; its
``renditions`` and ``previews`` are what the API shows, summed up from the parts
(``transcoder.records.summary``) after every transition, so the two never disagree.
Transitions return True when they changed the document; ``transcoder.records.videos``
applies each atomically.
"""

from __future__ import annotations

import uuid

from transcoder.errors import ErrorInfo
from transcoder.media.ladder import Rendition
from transcoder.media.planner import Part
from transcoder.media.probe import MediaInfo
from transcoder.records.document import PartEntry, PartResults, RenditionEntry, Video
from transcoder.records.states import PART_TERMINAL, TERMINAL, PartState, VideoState, part
from transcoder.records.summary import summarize


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
    video: Video = {
        "id": video_id,
        "state": VideoState.QUEUED,
        "error": None,
        "filename": filename,
        "created_at": now,
        "finished_at": None,
        "seq": 0,
        "source": media.to_dict(),
        "renditions": [
            RenditionEntry(
                **r.to_dict(),
                state=PartState.QUEUED,
                progress=0.0,
                fps=None,
                eta_seconds=None,
                error=None,
            )
            for r in renditions
        ],
        "previews": {"state": PartState.QUEUED, "error": None, "storyboard": None},
        "parts": [
            PartEntry(
                **p.to_dict(),
                state=PartState.QUEUED,
                progress=0.0,
                fps=None,
                eta_seconds=None,
                error=None,
                attempts=0,
                outages=0,
                worker=None,
                started_at=None,
                finished_at=None,
                retry_at=None,
                last_error=None,
                released=not p.after,
                results=None,
            )
            for p in parts
        ],
    }
    summarize(video)
    return video


def running_parts(videos: list[Video]) -> list[tuple[str, PartEntry]]:
    """(part id, part) for every part of these videos that is running now."""
    return [(p["id"], p) for video in videos for p in video["parts"] if p["state"] == PartState.RUNNING]


def dispatchable(video: Video) -> list[str]:
    """The parts to send to workers now: queued, and not waiting for other parts (none of a
    video that follows another: see ``records/shared``)."""
    if video.get("follows"):
        return []
    return [p["id"] for p in video["parts"] if p["state"] == PartState.QUEUED and p["released"]]


# --- transitions: each returns True when it changed the document -------------


def start_part(
    video: Video, part_id: str, worker: str, now: float | None = None, max_attempts: int | None = None
) -> bool:
    """Mark a part running; a finished one, or a join still waiting for its parts, is left alone.

    A part still marked running had a run that died (its lease, which this run now holds,
    lapsed). A copy of its message may come before the sweeper has counted that loss; it
    starts the part again only while attempts are left, so the last lost attempt is the
    sweeper's to record as a failure ("worker lost"), never a fourth start.
    """
    entry = part(video, part_id)
    if entry["state"] in PART_TERMINAL or video["state"] in TERMINAL or not entry["released"]:
        return False
    if video.get("follows"):
        return False
    if entry["state"] == PartState.RUNNING and max_attempts is not None and entry["attempts"] >= max_attempts:
        return False
    # Progress is kept from an earlier attempt: a bar never goes back.
    entry.update(
        {"state": PartState.RUNNING, "retry_at": None, "fps": None, "eta_seconds": None, "worker": worker}
    )
    entry["attempts"] += 1
    entry["started_at"] = now
    video["state"] = VideoState.PROCESSING
    summarize(video)
    return True


def report_progress(video: Video, part_id: str, percent: float, fps: float | None, eta: float | None) -> bool:
    entry = part(video, part_id)
    if entry["state"] != PartState.RUNNING:
        return False
    # Never let a bar go backwards, whatever order reports arrive in.
    entry["progress"] = round(max(entry["progress"], min(percent, 100.0)), 1)
    entry["fps"] = None if fps is None else round(fps, 1)
    entry["eta_seconds"] = None if eta is None else round(eta, 1)
    summarize(video)
    return True


def finish_part(video: Video, part_id: str, now: float, results: PartResults | None = None) -> bool:
    """Mark a part ready with what it produced; the video closes if it was the last."""
    entry = part(video, part_id)
    if entry["state"] in PART_TERMINAL or video["state"] in TERMINAL:
        return False
    entry.update(
        {
            "state": PartState.READY,
            "error": None,
            "progress": 100.0,
            "eta_seconds": 0.0,
            "results": results,
            "finished_at": now,
        }
    )
    summarize(video)
    settle(video, now)
    return True


def release(video: Video, now: float) -> list[str]:
    """Parts whose wait just ended (all they come after are ready): marked due now, so the
    sweeper sends them again if the message that should start them is lost."""
    ready = {p["id"] for p in video["parts"] if p["state"] == PartState.READY}
    released = []
    for entry in video["parts"]:
        if not entry["released"] and set(entry["after"]) <= ready and entry["state"] == PartState.QUEUED:
            entry.update({"released": True, "retry_at": now})
            released.append(entry["id"])
    return released


def fail_part(video: Video, part_id: str, error: ErrorInfo, now: float) -> bool:
    entry = part(video, part_id)
    if entry["state"] in PART_TERMINAL or video["state"] in TERMINAL:
        return False
    entry.update({"state": PartState.FAILED, "error": error, "eta_seconds": None})
    summarize(video)
    settle(video, now)
    return True


def requeue_part(
    video: Video,
    part_id: str,
    error: ErrorInfo,
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
    if entry["state"] != PartState.RUNNING or video["state"] in TERMINAL:
        return False
    if outage:
        entry["attempts"] -= 1
        entry["outages"] += 1
        if entry["outages"] > max_outages:
            reason: ErrorInfo = {
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
        {
            "state": PartState.QUEUED,
            "retry_at": retry_at,
            "eta_seconds": None,
            "fps": None,
            "last_error": error,
        }
    )
    summarize(video)
    return True


def cancel(video: Video, now: float) -> bool:
    """Stop a video for good: every part not yet ended is canceled with it. It keeps
    nothing in storage (its files are removed), so its quota is given back."""
    if video["state"] in TERMINAL:
        return False
    for entry in video["parts"]:
        if entry["state"] not in PART_TERMINAL:
            entry.update({"state": PartState.CANCELED, "eta_seconds": None})
    video.update(
        {
            "state": VideoState.CANCELED,
            "error": {"code": "canceled", "message": "This video was canceled."},
            "finished_at": now,
            "stored_bytes": 0,
        }
    )
    summarize(video)
    return True


def retry_failed(video: Video) -> list[str]:
    """Queue a failed video's failed parts again (their finished siblings are kept);
    returns the ids of those that can start now."""
    if video["state"] != VideoState.FAILED:
        return []
    for entry in video["parts"]:
        if entry["state"] == PartState.FAILED:
            # A fresh budget: storage outages and the last passing error are forgotten too,
            # or a part that failed for outages would fail again at its first one after Retry.
            entry.update(
                {
                    "state": PartState.QUEUED,
                    "error": None,
                    "attempts": 0,
                    "outages": 0,
                    "last_error": None,
                    "retry_at": None,
                }
            )
    video.update({"state": VideoState.PROCESSING, "error": None, "finished_at": None})
    summarize(video)
    return dispatchable(video)


def _blocked(video: Video, entry: PartEntry) -> bool:
    """A part that waits for one that failed: it cannot run until a retry."""
    failed = {p["id"] for p in video["parts"] if p["state"] == PartState.FAILED}
    return entry["state"] == PartState.QUEUED and bool(failed & set(entry["after"]))


def settle(video: Video, now: float) -> bool:
    """Close the video once all its work has ended; the first caller to see that wins."""
    if video["state"] in TERMINAL:
        return False
    if any(e["state"] not in PART_TERMINAL and not _blocked(video, e) for e in video["parts"]):
        return False
    failed = [e for e in video["parts"] if e["state"] == PartState.FAILED]
    if failed:
        names = [r["name"] for r in video["renditions"] if r["state"] == PartState.FAILED]
        first: ErrorInfo | dict[str, str] = failed[0]["error"] or {}
        video["state"] = VideoState.FAILED
        video["error"] = {
            "code": first.get("code", "encode_failed"),
            "message": f"The {', '.join(names)} rendition failed: {first.get('message', 'unknown reason')}",
        }
    else:
        video["state"] = VideoState.READY
    video["finished_at"] = now
    return True


def weigh(video: Video, stored_bytes: int) -> bool:
    """Note what an ended video keeps in storage (its source and outputs), for quotas;
    ``transcoder.work.weighing`` calls it in the change that ends the video."""
    if video.get("stored_bytes") == stored_bytes:
        return False
    video["stored_bytes"] = stored_bytes
    return True
