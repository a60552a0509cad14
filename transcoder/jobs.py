"""Video and rendition state, and its one home in Redis.

A video is one JSON document (state, source, renditions, a sequence number).
Transitions are pure functions on that document; ``VideoStore.update`` applies
one inside a Redis optimistic transaction that also bumps the sequence number
and publishes the new snapshot, so the stored state, the number and the event
always agree, and deciding "all renditions are done" happens exactly once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import redis

from . import keys
from .errors import VideoNotFound
from .ladder import Rendition
from .probe import MediaInfo

Video = dict[str, Any]


class VideoState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    CANCELED = "canceled"


class RungState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    CANCELED = "canceled"


TERMINAL = {VideoState.READY.value, VideoState.FAILED.value, VideoState.CANCELED.value}
RUNG_TERMINAL = {RungState.READY.value, RungState.FAILED.value, RungState.CANCELED.value}


def new_video_id() -> str:
    return uuid.uuid4().hex


def new_video(
    video_id: str, filename: str, media: MediaInfo, renditions: list[Rendition], now: float
) -> Video:
    return {
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
                "state": RungState.QUEUED.value,
                "progress": 0.0,
                "fps": None,
                "eta_seconds": None,
                "error": None,
                "attempts": 0,
                "worker": None,
                "hls": None,
            }
            for r in renditions
        ],
        "previews": {
            "state": RungState.QUEUED.value,
            "error": None,
            "attempts": 0,
            "worker": None,
            "storyboard": None,
        },
    }


#: The part of a video's work that makes its poster and storyboard.
PREVIEWS = "previews"


def rung(video: Video, name: str) -> dict[str, Any]:
    for entry in video["renditions"]:
        if entry["name"] == name:
            return entry
    raise VideoNotFound(f"Video {video['id']} has no {name} rendition.")


def part(video: Video, name: str) -> dict[str, Any]:
    """One unit of a video's work: a rendition by name, or ``PREVIEWS``."""
    return video["previews"] if name == PREVIEWS else rung(video, name)


def parts(video: Video) -> list[dict[str, Any]]:
    return [*video["renditions"], video["previews"]]


def named_parts(video: Video) -> list[tuple[str, dict[str, Any]]]:
    return [*((r["name"], r) for r in video["renditions"]), (PREVIEWS, video["previews"])]


def running_parts(videos: list[Video]) -> list[tuple[str, dict[str, Any]]]:
    """(part name, part) for every part of these videos that is running now."""
    return [
        (name, entry)
        for video in videos
        for name, entry in named_parts(video)
        if entry["state"] == RungState.RUNNING.value
    ]


# --- transitions: each returns True when it changed the document -------------


def start_part(video: Video, name: str, worker: str, now: float | None = None) -> bool:
    """Mark a part running; a finished one is left alone (a duplicate run is a no-op)."""
    entry = part(video, name)
    if entry["state"] in RUNG_TERMINAL or video["state"] in TERMINAL:
        return False
    entry["state"] = RungState.RUNNING.value
    entry["retry_at"] = None
    if name != PREVIEWS:
        # Progress is kept from an earlier attempt: a bar never goes back.
        entry.update(fps=None, eta_seconds=None)
    entry["attempts"] += 1
    entry["worker"] = worker
    entry["started_at"] = now
    video["state"] = VideoState.PROCESSING.value
    return True


def report_progress(video: Video, name: str, percent: float, fps: float | None, eta: float | None) -> bool:
    entry = rung(video, name)
    if entry["state"] != RungState.RUNNING.value:
        return False
    # Never let a bar go backwards, whatever order reports arrive in.
    entry["progress"] = round(max(entry["progress"], min(percent, 100.0)), 1)
    entry["fps"] = None if fps is None else round(fps, 1)
    entry["eta_seconds"] = None if eta is None else round(eta, 1)
    return True


def finish_part(video: Video, name: str, now: float, **results: Any) -> bool:
    """Mark a part ready, keeping what it produced (``hls`` for a rung, ``storyboard`` for previews)."""
    entry = part(video, name)
    if entry["state"] in RUNG_TERMINAL or video["state"] in TERMINAL:
        return False
    entry.update(state=RungState.READY.value, error=None, **results)
    if name != PREVIEWS:
        entry.update(progress=100.0, eta_seconds=0.0)
    settle(video, now)
    return True


def fail_part(video: Video, name: str, error: dict[str, str], now: float) -> bool:
    entry = part(video, name)
    if entry["state"] in RUNG_TERMINAL or video["state"] in TERMINAL:
        return False
    entry.update(state=RungState.FAILED.value, error=error)
    if name != PREVIEWS:
        entry["eta_seconds"] = None
    settle(video, now)
    return True


def requeue_part(
    video: Video,
    name: str,
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
    entry = part(video, name)
    if entry["state"] != RungState.RUNNING.value or video["state"] in TERMINAL:
        return False
    if outage:
        entry["attempts"] -= 1
        entry["outages"] = entry.get("outages", 0) + 1
        if entry["outages"] > max_outages:
            reason = {
                "code": error["code"],
                "message": f"{error['message']} It stayed out of reach, so we stopped trying.",
            }
            return fail_part(video, name, reason, now)
    elif entry["attempts"] >= max_attempts:
        reason = {
            "code": error["code"],
            "message": f"{error['message']} This happened {entry['attempts']} times, so we stopped trying.",
        }
        return fail_part(video, name, reason, now)
    entry.update(state=RungState.QUEUED.value, retry_at=retry_at, eta_seconds=None, last_error=error)
    return True


def cancel(video: Video, now: float) -> bool:
    """Stop a video for good: every part not yet ended is canceled with it."""
    if video["state"] in TERMINAL:
        return False
    for entry in parts(video):
        if entry["state"] not in RUNG_TERMINAL:
            entry.update(state=RungState.CANCELED.value, eta_seconds=None)
    video.update(
        state=VideoState.CANCELED.value,
        error={"code": "canceled", "message": "This video was canceled."},
        finished_at=now,
    )
    return True


def retry_failed(video: Video) -> list[str]:
    """Queue a failed video's failed parts again; returns their names (none if it had not failed)."""
    if video["state"] != VideoState.FAILED.value:
        return []
    names = []
    for entry in parts(video):
        if entry["state"] == RungState.FAILED.value:
            # A fresh budget: storage outages and the last passing error are forgotten too,
            # or a part that failed for outages would fail again at its first one after Retry.
            entry.update(
                state=RungState.QUEUED.value,
                error=None,
                attempts=0,
                outages=0,
                last_error=None,
                retry_at=None,
            )
            names.append(entry.get("name", PREVIEWS))
    video.update(state=VideoState.PROCESSING.value, error=None, finished_at=None)
    return names


def settle(video: Video, now: float) -> bool:
    """Close the video once all its work has ended; the first caller to see that wins.

    The renditions decide ready or failed; previews that could not be made leave
    the video without a poster, not broken.
    """
    if video["state"] in TERMINAL:
        return False
    if any(e["state"] not in RUNG_TERMINAL for e in parts(video)):
        return False
    entries = video["renditions"]
    failed = [e for e in entries if e["state"] == RungState.FAILED.value]
    if failed:
        names = ", ".join(e["name"] for e in failed)
        first = failed[0]["error"] or {}
        video["state"] = VideoState.FAILED.value
        video["error"] = {
            "code": first.get("code", "encode_failed"),
            "message": f"The {names} rendition failed: {first.get('message', 'unknown reason')}",
        }
    else:
        video["state"] = VideoState.READY.value
    video["finished_at"] = now
    return True


def playable_variants(video: Video) -> list[dict[str, Any]]:
    """Ready renditions with HLS, lowest first: what the master playlist lists right now."""
    return [e for e in video["renditions"] if e["state"] == RungState.READY.value and e.get("hls")]


def overall_progress(video: Video) -> float:
    entries = video["renditions"]
    if video["state"] == VideoState.READY.value:
        return 100.0
    if not entries:
        return 0.0
    return round(sum(e["progress"] for e in entries) / len(entries), 1)


class VideoStore:
    """Video documents in Redis, written only through transitions."""

    def __init__(self, client: redis.Redis, ttl_seconds: int) -> None:
        self.redis = client
        self.ttl = ttl_seconds

    def create(self, video: Video) -> Video:
        video = {**video, "seq": 1}
        data = json.dumps(video)
        with self.redis.pipeline() as pipe:
            pipe.set(keys.video_key(video["id"]), data, ex=self.ttl, nx=True)
            pipe.zadd(keys.VIDEOS_INDEX, {video["id"]: video["created_at"]})
            pipe.sadd(keys.ACTIVE_VIDEOS, video["id"])
            pipe.hincrby(keys.VIDEO_STATES, video["state"], 1)
            pipe.publish(keys.events_channel(video["id"]), data)
            pipe.execute()
        return video

    def get(self, video_id: str) -> Video:
        raw = self.redis.get(keys.video_key(video_id))
        if raw is None:
            raise VideoNotFound(f"No video with id {video_id!r}.")
        return json.loads(raw)

    def update(self, video_id: str, change: Callable[[Video], bool]) -> tuple[Video, bool]:
        """Apply ``change`` atomically; publish the new snapshot when it changed something."""
        key = keys.video_key(video_id)
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if raw is None:
                        raise VideoNotFound(f"No video with id {video_id!r}.")
                    video = json.loads(raw)
                    before = video["state"]
                    if not change(video):
                        pipe.unwatch()
                        return video, False
                    video["seq"] += 1
                    data = json.dumps(video)
                    pipe.multi()
                    pipe.set(key, data, keepttl=True)
                    if video["state"] in TERMINAL:
                        pipe.srem(keys.ACTIVE_VIDEOS, video_id)
                    else:
                        pipe.sadd(keys.ACTIVE_VIDEOS, video_id)
                    if video["state"] != before:
                        pipe.hincrby(keys.VIDEO_STATES, before, -1)
                        pipe.hincrby(keys.VIDEO_STATES, video["state"], 1)
                    pipe.publish(keys.events_channel(video_id), data)
                    pipe.execute()
                    return video, True
                except redis.WatchError:
                    continue

    def delete(self, video_id: str) -> None:
        """Forget a video that never got going (its work could not be queued)."""
        raw = self.redis.get(keys.video_key(video_id))
        with self.redis.pipeline() as pipe:
            if raw is not None:
                pipe.hincrby(keys.VIDEO_STATES, json.loads(raw)["state"], -1)
            pipe.delete(keys.video_key(video_id))
            pipe.zrem(keys.VIDEOS_INDEX, video_id)
            pipe.srem(keys.ACTIVE_VIDEOS, video_id)
            pipe.execute()

    def active(self) -> list[str]:
        """Ids of videos not yet ended."""
        return sorted(
            i.decode() if isinstance(i, bytes) else i for i in self.redis.smembers(keys.ACTIVE_VIDEOS)
        )

    def active_videos(self) -> list[Video]:
        """Videos not yet ended (for the sweeper, the autoscaler and /metrics), in one read."""
        return self._many(self.active())

    def recent(self, limit: int = 50) -> list[Video]:
        ids = self.redis.zrevrange(keys.VIDEOS_INDEX, 0, limit - 1)
        return self._many([i.decode() if isinstance(i, bytes) else i for i in ids])

    def _many(self, ids: list[str]) -> list[Video]:
        """The documents of these ids; any that expired meanwhile are left out."""
        if not ids:
            return []
        raws = self.redis.mget([keys.video_key(i) for i in ids])
        return [json.loads(raw) for raw in raws if raw is not None]
