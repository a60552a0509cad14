"""Documents of videos that share another's outputs: pure functions, no I/O.

A repeat of bytes already encoded is a video of its own (id, name, owner, events) whose
renditions, parts and previews are copied from the video that made them, its ``home``
(``files_from`` says where its files are read). A repeat of bytes still encoding
*follows* that video: it is planned as that one was (same bytes, same settings, same
plan), sends no parts, and either attaches to the outputs once they are ready or, if
its origin went (canceled, failed, deleted), is released to encode on its own.
"""

from __future__ import annotations

import copy
from typing import Any, cast

from transcoder.records.document import Video
from transcoder.records.states import TERMINAL, PartState, VideoState
from transcoder.records.summary import summarize

#: What is a video's own, never copied from the video whose outputs it shares.
IDENTITY = ("id", "filename", "owner", "owner_name", "source_sha256", "reuse_key", "created_at")


def identity(video: Video) -> dict[str, Any]:
    return {k: video[k] for k in IDENTITY if k in video}  # type: ignore[literal-required]


def reused(template: Video, own: dict[str, Any], home: str, now: float) -> Video:
    """A new video ready at once, made of ``template``'s ended outputs (kept in ``home``'s
    folder). It counts their full size against its owner, as if it had made them."""
    video: Video = copy.deepcopy(template)
    video.pop("follows", None)
    video.update(own)  # type: ignore[typeddict-item]
    video.update({"state": VideoState.READY, "error": None, "finished_at": now, "seq": 0})
    video["files_from"] = home
    video["stored_bytes"] = template.get("stored_bytes") or 0
    return video


def following(template: Video, own: dict[str, Any], origin: str) -> Video:
    """A new video that waits for ``origin``, planned as ``template`` (origin's plan): if
    it is released it encodes exactly that plan, from its own copy of the bytes."""
    video: Video = copy.deepcopy(template)
    video.pop("files_from", None)
    video.update(own)  # type: ignore[typeddict-item]
    video.update({"state": VideoState.QUEUED, "error": None, "finished_at": None, "seq": 0})
    video["follows"] = origin
    return video


def planned(video: Video) -> Video:
    """What a follower copies of a home that is about to encode: its plan, as new."""
    plan: Video = copy.deepcopy(video)
    for key in ("follows", "files_from"):
        plan.pop(key, None)  # type: ignore[misc]
    return plan


def attach(video: Video, template: Video, home: str, now: float) -> bool:
    """A follower takes the outputs it waited for: ready, its files read from ``home``."""
    if not video.get("follows") or video["state"] in TERMINAL:
        return False
    own = identity(video)
    seq = video["seq"]
    cast(dict[str, Any], video).clear()
    video.update(reused(template, own, home, now))
    video["seq"] = seq
    return True


def refollow(video: Video, origin: str) -> bool:
    """A follower whose origin went waits for another that took its place."""
    if not video.get("follows") or video["state"] in TERMINAL or video["follows"] == origin:
        return False
    video["follows"] = origin
    return True


def release(video: Video, now: float) -> bool:
    """A follower encodes on its own: its parts that can start are due now, so the sweeper
    sends them again if the message that should start them is lost."""
    if not video.get("follows") or video["state"] in TERMINAL:
        return False
    del video["follows"]
    for entry in video["parts"]:
        if entry["state"] == PartState.QUEUED and entry["released"]:
            entry["retry_at"] = now
    summarize(video)
    return True
