"""What the API shows of a video, summed up from its parts (pure).

A rendition's state, progress, speed and ETA, whether the video can play, and the
previews' state are never stored apart from the parts: ``summarize`` recomputes them
after every transition, so they cannot disagree.
"""

from __future__ import annotations

from transcoder.media.planner import JOIN
from transcoder.records.document import PartEntry, RenditionEntry, RenditionSummary
from transcoder.records.states import PartState, Video, VideoState, results_of, sound_of, video_parts


def summarize(video: Video) -> None:
    """Each rendition's state, progress, speed and ETA, and the previews', from the parts."""
    join = next((p for p in video["parts"] if p["id"] == JOIN), None)
    for rendition in video["renditions"]:
        own = video_parts(video, rendition["name"])
        shared = [p for p in (sound_of(video, rendition["audio_bitrate_k"]), join) if p is not None]
        rendition.update(_summary(video, own, shared, join))
    previews = video["previews"]
    previews["state"] = _previews_state(video, join)
    previews["storyboard"] = results_of(join).get("storyboard") if join is not None else None
    previews["error"] = join["error"] if join is not None else None


def _summary(
    video: Video, own: list[PartEntry], shared: list[PartEntry], join: PartEntry | None
) -> RenditionSummary:
    everything = own + shared
    states = {p["state"] for p in everything}
    failed = next((p for p in everything if p["state"] == PartState.FAILED), None)
    if join is not None and join["state"] == PartState.READY:
        state = PartState.READY
    elif failed is not None:
        state = PartState.FAILED
    elif video["state"] == VideoState.CANCELED:
        state = PartState.CANCELED
    elif states & {PartState.RUNNING, PartState.READY}:
        state = PartState.RUNNING
    else:
        state = PartState.QUEUED
    seconds = sum(p["seconds"] for p in own) or 1.0
    progress = sum(p["progress"] * p["seconds"] for p in own) / seconds
    if state != PartState.READY:
        progress = min(progress, 99.9)
    running = [p for p in own if p["state"] == PartState.RUNNING]
    fps = round(sum(p["fps"] or 0 for p in running), 1) if running else None
    etas = [p["eta_seconds"] for p in running]
    waiting = any(p["state"] == PartState.QUEUED for p in own)
    known = [e for e in etas if e is not None]
    eta = max(known) if running and len(known) == len(etas) and not waiting else None
    return {
        "state": state,
        "progress": 100.0 if state == PartState.READY else round(progress, 1),
        "fps": fps or None,
        "eta_seconds": 0.0 if state == PartState.READY else eta,
        "error": failed["error"] if failed is not None else None,
    }


def _previews_state(video: Video, join: PartEntry | None) -> str:
    if join is None:
        return PartState.FAILED
    if join["state"] == PartState.READY:
        has = bool(results_of(join).get("storyboard"))
        return PartState.READY if has else PartState.FAILED
    if video["state"] == VideoState.CANCELED:
        return PartState.CANCELED
    if join["state"] == PartState.FAILED:
        return PartState.FAILED
    return PartState.RUNNING if video["state"] == VideoState.PROCESSING else PartState.QUEUED


def playable_renditions(video: Video) -> list[RenditionEntry]:
    """Renditions a player can start now (lowest first): its sound and its first part are
    ready; later parts join the playlist as they finish."""
    if video["state"] in (VideoState.FAILED, VideoState.CANCELED):
        return []
    playable = []
    for rendition in video["renditions"]:
        own = video_parts(video, rendition["name"])
        sound = sound_of(video, rendition["audio_bitrate_k"])
        if sound is not None and sound["state"] != PartState.READY:
            continue
        if own and own[0]["state"] == PartState.READY:
            playable.append(rendition)
    return playable


def overall_progress(video: Video) -> float:
    entries = video["renditions"]
    if video["state"] == VideoState.READY:
        return 100.0
    if not entries:
        return 0.0
    return round(sum(e["progress"] for e in entries) / len(entries), 1)
