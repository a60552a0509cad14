"""What the web app and the tasks ask of a video: accept an upload, run a part, cancel, delete,
retry, close."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import redis

from transcoder.accounts import reservations
from transcoder.accounts.users import User
from transcoder.errors import InvalidInput, QuotaExceeded, Unauthorized
from transcoder.media import frames, planner, policy, previews
from transcoder.media.ladder import Rendition, renditions_for
from transcoder.media.probe import MediaInfo, probe_and_scan
from transcoder.ops import metrics
from transcoder.records import redis_keys, states, transitions
from transcoder.services import Services
from transcoder.storage import scratch
from transcoder.storage.base import CHUNK
from transcoder.storage.layout import source_key, video_prefix
from transcoder.work import reuse, runner, weighing
from transcoder.work.runner import Outcome

log = logging.getLogger(__name__)


@dataclass
class Staged:
    """An upload whose bytes have all arrived, not yet a video: what ffprobe reads, its
    size and sha256 (computed as the bytes came), and how to keep or drop the bytes.

    A multipart upload is staged in a scratch folder (``stage``); a resumable one where
    its bytes gathered (``transcoder.uploads``). ``keep`` puts the bytes at a storage key
    (the new video's source); ``discard`` drops them (refused, or already stored).
    """

    #: A local file, or (a resumable upload staged in S3) a URL we presigned for ffprobe.
    path: Path | policy.SignedUrl
    size: int
    sha256: str
    keep: Callable[[str], None]
    discard: Callable[[], None]


@contextmanager
def stage(services: Services, stream: BinaryIO) -> Iterator[Staged]:
    """Write a multipart upload's body into a scratch folder, hashing it on the way; the
    folder goes when the ``with`` ends, whatever happened."""
    with scratch.folder(services.settings.scratch_dir, "upload") as folder:
        local = folder / "source"
        digest = hashlib.sha256()
        with open(local, "wb") as out:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
            size = out.tell()
        yield Staged(
            path=local,
            size=size,
            sha256=digest.hexdigest(),
            keep=lambda key: services.storage.put_file(key, local),
            discard=lambda: local.unlink(missing_ok=True),
        )


def accept_upload(
    services: Services,
    stream: BinaryIO,
    filename: str,
    owner: User,
    key_id: str | None = None,
    reservation: reservations.Reservation | None = None,
    revoked: Callable[[], str | None] | None = None,
) -> states.Video:
    """Store a multipart upload's body and accept it (``accept_staged``)."""
    held = reservation if reservation is not None else reserve_upload(services, owner, 0)
    with held, stage(services, stream) as staged:
        return accept_staged(services, staged, filename, owner, key_id, held, revoked)


def accept_staged(
    services: Services,
    staged: Staged,
    filename: str,
    owner: User,
    key_id: str | None,
    held: reservations.Reservation,
    revoked: Callable[[], str | None] | None = None,
) -> states.Video:
    """Check that an upload is a video we can read and that it fits its owner's quotas,
    keep its bytes as the new video's source and record it as queued (with the id of the
    API key it came with, if any).

    ``revoked`` says, once the body has come, whether the credential it came with was
    revoked meanwhile (None: it holds); if so, nothing is kept.

    ``held`` holds the upload's bytes against the quotas since before its body was read
    (the web app makes it from ``Content-Length``, or at a resumable upload's creation).
    It is trimmed to the file's real size; the caller releases it once this returns or
    raises. A refused upload leaves nothing behind: no file, no record.
    """
    video_id = transitions.new_video_id()
    size = staged.size
    limits = services.settings.limits
    key = reuse.key_for(services.settings, staged.sha256, owner.id)
    planned: list[states.Video] = []

    def plan() -> states.Video:
        """The new video's document, from a probe of its bytes (made once)."""
        if not planned:
            try:
                media, found = probe_and_scan(staged.path, limits)
                policy.check_duration(found.duration, limits)
            except (InvalidInput, QuotaExceeded) as refused:
                metrics.record_refusal(services.redis, refused.code)
                raise
            name, ladder = clean_filename(filename), renditions_for(media.width, media.height)
            record = new_record(services, video_id, name, media, found, ladder)
            record.update({"owner": owner.id, "owner_name": owner.name, "stored_bytes": size})
            record["source_sha256"] = staged.sha256
            if key is not None:
                record["reuse_key"] = key
            planned.append(record)
        return planned[0]

    def charge(full: int) -> None:
        """A reused video is charged its outputs too (``shared.reused``): they must fit."""
        try:
            held.resize(max(size, full))
        except QuotaExceeded as refused:
            metrics.record_refusal(services.redis, refused.code)
            raise

    try:
        if size == 0:
            raise InvalidInput("The uploaded file is empty.", code="empty_file")
        # Before anything is stored: a refusal never reaches storage.
        held.resize(size)
        seen = reuse.peek(services, key)
        if seen is not None:
            # The same bytes were probed before; the limits may have changed since.
            policy.check_duration(seen.document["source"]["duration"], limits)
    except (InvalidInput, QuotaExceeded) as refused:
        metrics.record_refusal(services.redis, refused.code)
        raise
    if seen is None:
        plan()
    # The body took its time: a key revoked, a user disabled or signed out meanwhile
    # keeps nothing of it.
    if revoked is not None and (why := revoked()) is not None:
        raise Unauthorized(
            f"Your credential was revoked while this upload arrived ({why}); nothing was kept."
        )
    if key is None:
        try:
            staged.keep(source_key(video_id))
            video = services.videos.create(plan(), key_id)
        except BaseException:
            services.storage.delete_prefix(video_prefix(video_id))
            raise
    else:
        own = {"id": video_id, "filename": clean_filename(filename), "owner": owner.id,
               "owner_name": owner.name, "source_sha256": staged.sha256, "reuse_key": key,
               "created_at": time.time(), "stored_bytes": size}  # fmt: skip
        video = reuse.admit(services, staged.keep, key, own, plan, key_id, charge)
    # Counted by the catalog and the ledger before the reservation goes (leaving ``held``).
    services.quotas.record_upload(owner, size)
    metrics.record_upload(services.redis, size)
    return video


def reserve_upload(services: Services, owner: User, size: int) -> reservations.Reservation:
    """Hold ``size`` bytes of ``owner``'s quotas for an upload about to be read, or raise
    ``QuotaExceeded`` (counted for /metrics). The web app calls it with the body's
    ``Content-Length`` before reading the body, and hands the reservation to
    ``accept_upload``; see ``transcoder.accounts.reservations``."""
    try:
        return reservations.reserve(services.redis, services.quotas, owner, size)
    except QuotaExceeded as refused:
        metrics.record_refusal(services.redis, refused.code)
        raise


def clean_filename(name: str) -> str:
    """The upload's own name, kept only to show people: no folders, no control or direction
    characters (a right-to-left override can disguise an extension), at most 255 characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    return name.strip()[:255]


def new_record(
    services: Services,
    video_id: str,
    name: str,
    media: MediaInfo,
    found: frames.Frames,
    ladder: list[Rendition],
) -> states.Video:
    """The video's document: its renditions, and the parts the planner cut its work into."""
    settings = services.settings
    storyboard = previews.lay_out_storyboard(media)
    parts = planner.plan(
        found,
        [r.name for r in ladder],
        storyboard,
        audio_bitrates=[r.audio_bitrate_k for r in ladder] if media.has_audio else [],
        shape=settings.part_shape,
        chunk_s=settings.chunk_seconds,
        poster_at=planner.poster_time(media.duration),
    )
    record = transitions.new_video(video_id, name, media, ladder, parts, time.time())
    record["storyboard_plan"] = storyboard.to_dict()
    return record


def run_part(services: Services, video_id: str, part_id: str, worker: str) -> Outcome:
    """Run one part of a video (pictures, sound or join); running it twice is harmless.

    The outcome says whether this run ended the video (true for exactly one run) and
    which parts may start now. Raises ``RetryLater`` when the failure was transient.
    """
    return runner.run(services, video_id, part_id, worker)


def cancel_video(services: Services, video_id: str) -> tuple[states.Video, list[states.Video]]:
    """Cancel a video: running encodes see the flag within a second and stop; files are removed.

    The flag is raised only once the video is recorded as canceled, so a part that
    finishes meanwhile never mistakes a finished video for a canceled one. Returns the
    video, and those that followed it and now encode on their own (the caller sends
    their parts).
    """
    video, _ = services.videos.update(video_id, lambda v: transitions.cancel(v, time.time()))
    released: list[states.Video] = []
    if video["state"] == states.VideoState.CANCELED:
        services.redis.set(redis_keys.cancel_key(video_id), 1, ex=redis_keys.FLAG_TTL)
        # Its own folder: a video that never ended ready shares nothing.
        services.storage.delete_prefix(video_prefix(video_id))
        released = reuse.settle(services, video_id)
    return video, released


def delete_video(services: Services, video_id: str) -> list[states.Video]:
    """Delete a video: stop its work, then remove its record and every file nobody else uses.

    The cancel flag outlives the record, so a part still finishing, or a message
    delivered late, finds the video gone and leaves nothing behind (see ``runner``).
    Outputs another video still reads stay (``reuse.forget``). Returns the videos that
    followed it and now encode on their own.
    """
    video = services.videos.get(video_id)
    released: list[states.Video] = []
    if video["state"] not in states.TERMINAL:
        _, released = cancel_video(services, video_id)
    services.redis.set(redis_keys.cancel_key(video_id), 1, ex=redis_keys.FLAG_TTL)
    reuse.forget(services, video_id, then=lambda: services.videos.delete(video_id))
    return released


def discard_video(services: Services, video_id: str) -> None:
    """Forget a video just accepted whose work could not be queued: its record, its claim on
    its bytes' outputs, its files. Redis may be out of reach (what failed): its copy there
    is left to expire with the record gone."""

    def forget_in_redis() -> None:
        with contextlib.suppress(redis.RedisError):
            services.videos.delete(video_id)

    reuse.forget(services, video_id, then=forget_in_redis)


def retry_video(services: Services, video_id: str) -> tuple[states.Video, list[str]]:
    """Queue the failed parts of a failed video again; returns the video and the parts to send."""
    names: list[str] = []

    def change(video: states.Video) -> bool:
        if video["state"] != states.VideoState.FAILED:
            return False
        names[:] = transitions.retry_failed(video)
        return True

    video, _ = services.videos.update(video_id, change)
    return video, names


def close_video(services: Services, video_id: str) -> tuple[states.Video, list[states.Video]]:
    """Make sure a video whose parts have all ended is closed, and tidy its folder; its
    followers attach to its outputs or encode on their own (returned: the caller sends them)."""
    runner.count_run(services, video_id, "close")
    # Most videos were ended (and weighed) by their last part; a close ends those whose
    # remaining parts wait for one that failed. A repeated close (a duplicate delivery)
    # finds it ended and weighs nothing.
    video, _ = weighing.update(services, video_id, lambda v: transitions.settle(v, time.time()))
    released: list[states.Video] = []
    if video["state"] in states.TERMINAL:
        services.storage.discard_partials(video_prefix(video_id))
        released = reuse.settle(services, video_id)
    return video, released
