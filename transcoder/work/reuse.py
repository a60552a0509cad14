"""Content-addressed sources: the same bytes uploaded again reuse what they became.

An upload's *content key* is the sha256 of its bytes together with the version of
everything that shapes the outputs (``settings_version``) and the reuse scope
(``TRANSCODER_DEDUPE``: one owner's videos, or everyone's). A repeat of a key whose
outputs are ready becomes a new video, ready at once, reading its files from the
video that made them (no probe, no ffmpeg); a repeat of one still encoding follows it,
keeping its own copy of the bytes until it attaches, so if its origin is canceled,
fails or is deleted it encodes on its own. The rows and references live in
``records/sources`` (every change with the row locked); the documents in
``records/shared``. A follower is never stuck: the run that ends its origin settles it
(``settle``, from the close, a cancel or a delete), and every worker's sweep settles
those whose origin ended or vanished without it (``sweep_followers``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from sqlalchemy.exc import IntegrityError

from transcoder.errors import VideoNotFound
from transcoder.media import commands, hls, previews
from transcoder.media.ladder import LADDER
from transcoder.ops import metrics
from transcoder.records import shared, states
from transcoder.records.sources import ENCODING, READY, Admission, NotYet, Shared, Sources
from transcoder.services import Services
from transcoder.settings import Settings
from transcoder.storage.layout import source_key, video_prefix

log = logging.getLogger(__name__)

#: Bump whenever the engine makes other outputs from the same bytes and settings (a new
#: ffmpeg option, filter, container layout...): every key changes, so nothing made
#: before is reused.
OUTPUTS_VERSION = 1
#: Tries to record a repeat against a row that keeps changing under it, before it is
#: recorded as a video of its own.
ATTEMPTS = 5


def settings_version(settings: Settings) -> str:
    """A short digest of everything that changes a video's outputs for the same bytes."""
    shaping = {
        "engine": OUTPUTS_VERSION,
        "ladder": [[s.name, s.short_side, s.video_maxrate_k, s.audio_bitrate_k] for s in LADDER],
        "part_shape": settings.part_shape,
        "chunk_seconds": settings.chunk_seconds,
        "x264_preset": settings.x264_preset,
        "crf": commands.CRF,
        "keyframes_s": commands.KEYFRAME_INTERVAL_S,
        "segment_s": hls.SEGMENT_SECONDS,
        "storyboard": [previews.TILE_WIDTH, previews.MAX_TILES, previews.COLUMNS, previews.POSTER_SHORT_SIDE],
    }
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]


def key_for(settings: Settings, sha256: str, owner_id: str | None) -> str | None:
    """The content key of an upload (None: DEDUPE=off, nothing is reused)."""
    if settings.dedupe == "off":
        return None
    scope = "*" if settings.dedupe == "all" else f"owner:{owner_id or ''}"
    return hashlib.sha256(f"{sha256}\n{settings_version(settings)}\n{scope}".encode()).hexdigest()


def peek(services: Services, key: str | None) -> Shared | None:
    """What a repeat of this key would find now (unlocked; ``admit`` decides for good)."""
    return None if key is None else Sources(services.catalog).peek(key)


def admit(
    services: Services,
    keep: Callable[[str], None],
    key: str,
    own: dict[str, Any],
    plan: Callable[[], states.Video],
    key_id: str | None,
    charge: Callable[[int], None] | None = None,
) -> states.Video:
    """Record a new upload under its content key: reused (ready at once), following the
    video that encodes the same bytes, or (no row) the home of a new row, encoding.
    ``charge`` gets the full size a reuse would count against the owner (source and
    outputs) before it is recorded, and refuses it by raising (``QuotaExceeded``).

    ``own`` is what is the new video's own (id, name, owner, size...); ``plan`` probes the
    bytes and plans the work (called only when nothing can be copied); ``keep`` stores
    the bytes as the new video's source (not done for a repeat that is reused).
    """
    sources = Sources(services.catalog)
    video_id = own["id"]
    kept, planned = False, None
    try:
        for _ in range(ATTEMPTS):
            seen = sources.peek(key)
            if _ready_but_unsettled(services, seen):
                settle(services, seen.home)  # type: ignore[union-attr]
                seen = sources.peek(key)
            if seen is not None and seen.state == READY and charge is not None:
                charge(int(seen.document.get("stored_bytes") or 0))
            if seen is None and planned is None:
                planned = plan()  # before ``keep``, which may move the bytes away
            if (seen is None or seen.state == ENCODING) and not kept:
                keep(source_key(video_id))
                kept = True
            decide = functools.partial(_decide, own, key_id, time.time(), kept, planned)
            try:
                video = sources.admit(key, own["source_sha256"], decide).video
            except (NotYet, IntegrityError):
                continue
            break
        else:
            log.warning("video %s: its content key kept changing; it is encoded on its own", video_id)
            alone = {k: v for k, v in (planned or plan()).items() if k != "reuse_key"}
            if not kept:
                keep(source_key(video_id))
                kept = True
            return services.videos.create(alone, key_id)  # type: ignore[arg-type]
        try:
            services.videos.announce(video)
        except redis.RedisError:
            forget(services, video_id)
            raise
    except BaseException:
        if kept:
            services.storage.delete_prefix(video_prefix(video_id))
        raise
    if kept and video.get("files_from"):
        services.storage.delete_prefix(video_prefix(video_id))  # its own copy: not needed
    if video.get("files_from") or video.get("follows"):
        metrics.record_reuse(services.redis, "ready" if video.get("files_from") else "following")
    return video


def _ready_but_unsettled(services: Services, seen: Shared | None) -> bool:
    """Whether the row's home is ready but its close has not settled it yet (a few
    milliseconds; longer on a busy machine): a repeat arriving then settles it itself and
    is ready at once, rather than following a video that has already ended."""
    if seen is None or seen.state != ENCODING:
        return False
    try:
        return services.videos.get(seen.home)["state"] == states.VideoState.READY
    except VideoNotFound:
        return False


def _decide(
    own: dict[str, Any],
    key_id: str | None,
    now: float,
    kept: bool,
    planned: states.Video | None,
    found: Shared | None,
) -> Admission:
    """How a new upload is recorded, given the locked row: ``NotYet`` if the caller must
    keep its bytes (to follow, or to encode) or probe them (to encode) first."""
    if found is not None and found.state == READY:
        video = shared.reused(found.document, own, found.home, now)
        return Admission({**video, "seq": 1}, refers=True, key_id=key_id)
    if not kept:
        raise NotYet
    if found is not None:
        video = shared.following(found.document, own, found.home)
        return Admission({**video, "seq": 1}, refers=False, key_id=key_id)
    if planned is None:
        raise NotYet
    video = {**planned, "seq": 1}
    return Admission(video, refers=True, key_id=key_id, home_document=shared.planned(video))


def settle(services: Services, video_id: str) -> list[states.Video]:
    """After a video ended: its outputs are shared (ready) or its claim given up (failed,
    canceled); then its followers attach, or are released to encode on their own. Returns
    the released ones: the caller sends their parts. Harmless twice."""
    try:
        video = services.videos.get(video_id)
    except VideoNotFound:
        return []
    key = video.get("reuse_key")
    if not key or video["state"] not in states.TERMINAL or video.get("follows"):
        return []
    sources = Sources(services.catalog)
    if video["state"] == states.VideoState.READY:
        if not video.get("files_from"):
            sources.mark_ready(key, video_id, video)
    else:
        sources.give_up(key, video_id)
    return _followers_of(services, {video_id})


def sweep_followers(services: Services) -> list[states.Video]:
    """Settle every follower whose origin ended or vanished (its close, or the cancel or
    delete that should have settled it, was lost). Returns the videos released to encode."""
    followers = [v for v in services.videos.active_videos() if v.get("follows")]
    released: list[states.Video] = []
    ended: set[str] = set()
    for follower in followers:
        origin = follower["follows"]
        try:
            found = services.videos.get(origin)
        except VideoNotFound:
            Sources(services.catalog).give_up(follower["reuse_key"], origin)
            ended.add(origin)
            continue
        if found["state"] in states.TERMINAL:
            released += settle(services, origin)
    return released + _followers_of(services, ended)


def _followers_of(services: Services, origins: set[str]) -> list[states.Video]:
    if not origins:
        return []
    released = []
    # Oldest first: the first follower (by its upload's time) takes over a canceled origin.
    waiting = sorted(services.videos.active_videos(), key=lambda v: (v.get("created_at") or 0, v["id"]))
    for follower in waiting:
        if follower.get("follows") in origins and (video := _resolve(services, follower)) is not None:
            released.append(video)
    return released


def _resolve(services: Services, follower: states.Video) -> states.Video | None:
    """A follower whose origin ended: attach to the outputs if ready; else become the home
    of a fresh claim and encode (returned), or follow whoever took that place."""
    video_id, key = follower["id"], follower["reuse_key"]
    row = Sources(services.catalog).join(key, video_id, shared.planned(follower))
    if row is None:
        return None
    if row.state == READY:
        video, changed = services.videos.update(
            video_id, lambda v: shared.attach(v, row.document, row.home, time.time())
        )
        if changed:
            services.storage.delete_prefix(video_prefix(video_id))  # its own copy of the bytes
        elif video.get("files_from") != row.home:
            forget(services, video_id, delete_row=False)  # ended otherwise meanwhile (canceled)
        return None
    if row.home == video_id:
        video, changed = services.videos.update(video_id, lambda v: shared.release(v, time.time()))
        return video if changed else None
    services.videos.update(video_id, lambda v: shared.refollow(v, row.home))
    return None


def forget(
    services: Services, video_id: str, delete_row: bool = True, then: Callable[[], None] | None = None
) -> None:
    """Delete a video's record (or only its reference) and the folders nobody uses any
    longer: the files go only after the catalog's transaction has committed (and after
    ``then``: the delete's Redis half)."""
    folders = Sources(services.catalog).forget(video_id, delete_row)
    if then is not None:
        then()
    for folder in folders:
        services.storage.delete_prefix(video_prefix(folder))
