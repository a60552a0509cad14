"""What the API shows of a video, summed up from its parts (pure).

A rendition's state, progress, speed and ETA, whether the video can play, and the
previews' state are never stored apart from the parts: ``summarize`` recomputes them
after every transition, so they cannot disagree.
"""

from __future__ import annotations

from typing import Any

from transcoder.media.planner import JOIN
from transcoder.records.states import PartState, Video, VideoState, sound_of, video_parts


def summarize(video: Video) -> None:
    """Each rendition's state, progress, speed and ETA, and the previews', from the parts."""
    join = next((p for p in video["parts"] if p["id"] == JOIN), None)
    for rendition in video["renditions"]:
        own = video_parts(video, rendition["name"])
        shared = [p for p in (sound_of(video, rendition["audio_bitrate_k"]), join) if p is not None]
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


def playable_renditions(video: Video) -> list[dict[str, Any]]:
    """Renditions a player can start now (lowest first): its sound and its first part are
    ready; later parts join the playlist as they finish."""
    if video["state"] in (VideoState.FAILED.value, VideoState.CANCELED.value):
        return []
    playable = []
    for rendition in video["renditions"]:
        own = video_parts(video, rendition["name"])
        sound = sound_of(video, rendition["audio_bitrate_k"])
        if sound is not None and sound["state"] != PartState.READY.value:
            continue
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
