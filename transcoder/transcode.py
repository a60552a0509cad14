"""The use cases the web app and the tasks call: accept an upload, encode a rung, close a video."""

from __future__ import annotations

import logging
import shutil
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import redis

from . import ffmpeg, hls, jobs, keys, metrics, previews, scratch
from .errors import Canceled, InvalidInput, LeaseLost, StorageError, TranscoderError, Transient
from .ladder import Rendition, plan
from .leases import Lease
from .probe import MediaInfo, probe, run_ffprobe
from .progress import Progress
from .services import Services
from .storage import CHUNK, hls_prefix, preview_key, rendition_key, source_key

log = logging.getLogger(__name__)


def accept_upload(services: Services, stream: BinaryIO, filename: str) -> jobs.Video:
    """Store an upload, check that it is a video we can read, and record it as queued.

    A refused upload leaves nothing behind: no file, no record.
    """
    video_id = jobs.new_video_id()
    with scratch.folder(services.settings.scratch_dir, "upload") as folder:
        local = folder / "source"
        with open(local, "wb") as out:
            shutil.copyfileobj(stream, out, CHUNK)
            size = out.tell()
        try:
            if size == 0:
                raise InvalidInput("The uploaded file is empty.", code="empty_file")
            media = probe(local, services.settings.limits)  # before storing: a refusal never reaches storage
        except InvalidInput as refused:
            metrics.record_refusal(services.redis, refused.code)
            raise
        name, ladder = clean_filename(filename), plan(media.width, media.height)
        record = jobs.new_video(video_id, name, media, ladder, time.time())
        try:
            services.storage.put_file(source_key(video_id), local)
            video = services.videos.create(record)
        except BaseException:
            services.storage.delete_prefix(video_prefix(video_id))
            raise
    metrics.record_upload(services.redis, size)
    return video


def clean_filename(name: str) -> str:
    """The upload's own name, kept only to show people: no folders, no control or direction
    characters (a right-to-left override can disguise an extension), at most 255 characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    return name.strip()[:255]


#: Times a part waits out object storage being out of reach (pauses double up to a minute,
#: so about a quarter of an hour in all) before it fails.
OUTAGE_RETRIES = 20
#: The longest pause between two attempts of a part, in seconds.
MAX_BACKOFF_S = 60.0


def backoff_seconds(exponent: int) -> float:
    """The pause before the next try: 2, 4, 8... seconds after the 1st, 2nd, 3rd... failure,
    at most a minute, so a passing trouble has time to pass without a part waiting for hours."""
    return min(2.0**exponent, MAX_BACKOFF_S)


class RetryLater(Exception):
    """Raised to a task when its part failed for a passing reason and was queued again."""

    def __init__(self, countdown: float, reason: TranscoderError) -> None:
        super().__init__(reason.message)
        self.countdown = countdown
        self.reason = reason


def encode_rendition(services: Services, video_id: str, name: str, worker: str) -> bool:
    """Encode one rung (MP4 and HLS) and record the outcome; running it twice is harmless.

    Returns True when this call's outcome ended the video (all its work has ended),
    which happens for exactly one call per video. Raises ``RetryLater`` when the
    failure was transient and the part should run again after a pause.
    """
    return _run_part(
        services, video_id, name, worker, lambda video, watch: _encode(services, video, name, watch)
    )


def make_previews(services: Services, video_id: str, worker: str) -> bool:
    """Make the poster and the storyboard; like ``encode_rendition`` otherwise."""
    return _run_part(
        services, video_id, jobs.PREVIEWS, worker, lambda video, watch: _previews(services, video, watch)
    )


def _run_part(
    services: Services,
    video_id: str,
    name: str,
    worker: str,
    work: Callable[[jobs.Video, ffmpeg.Watch], dict[str, Any]],
) -> bool:
    settings = services.settings
    _count_run(services, video_id, name)
    lease = Lease(services.redis, keys.lease_key(video_id, name), settings.lease_seconds)
    if not lease.acquire():
        log.info("video %s %s: another worker is running it; this copy does nothing", video_id, name)
        _count_run(services, video_id, f"refused:{name}")
        metrics.record_lease_refusal(services.redis)
        return False
    try:
        video, started = services.videos.update(
            video_id, lambda v: jobs.start_part(v, name, worker, time.time())
        )
        if not started:
            log.info(
                "video %s %s: already %s, nothing to do", video_id, name, jobs.part(video, name)["state"]
            )
            return False
        watch = ffmpeg.Watch(
            wall_seconds=settings.ffmpeg_wall_seconds,
            stall_seconds=settings.stall_seconds,
            should_stop=lambda: services.redis.exists(keys.cancel_key(video_id)),
            heartbeat=lease.renew,
            heartbeat_seconds=settings.lease_seconds / 3,
        )

        def run() -> dict[str, Any]:
            for key in _outputs(video_id, name):
                services.storage.discard_partials(key)  # left by a run of this part that was killed
            return work(video, watch)

        return _finish(services, video_id, name, run)
    finally:
        lease.release()


def _count_run(services: Services, video_id: str, what: str) -> None:
    """Per video: how often each part's task was delivered, refused by the lease, or closed.

    Counts duplicates too, so operators and the fault trials can see at-least-once
    delivery at work, and the leases and the single close doing their job.
    """
    with services.redis.pipeline() as pipe:
        pipe.hincrby(keys.runs_key(video_id), what, 1)
        pipe.expire(keys.runs_key(video_id), services.settings.record_ttl)
        pipe.execute()


def _finish(services: Services, video_id: str, name: str, work: Callable[[], dict[str, Any]]) -> bool:
    """Run the work and record its outcome: ready, queued again, failed, or nothing if canceled."""
    now = time.time
    began = time.monotonic()
    try:
        results = work()
    except Canceled:
        log.info("video %s %s: canceled while running", video_id, name)
        services.storage.delete_prefix(video_prefix(video_id))
        return False
    except LeaseLost as exc:
        log.warning("video %s %s: %s", video_id, name, exc.message)
        return False  # the run that holds the lease records the outcome
    except Transient as exc:
        # Storage out of reach is nobody's fault: it does not use up the part's attempts,
        # and is waited out OUTAGE_RETRIES times before the part fails.
        outage = exc.code == "storage_unreachable"
        entry = jobs.part(services.videos.get(video_id), name)
        countdown = backoff_seconds(entry.get("outages", 0) + 1 if outage else entry["attempts"])
        log.warning("video %s %s: %s; trying again in %g s", video_id, name, exc.message, countdown)
        reason, max_attempts = exc.to_dict(), services.settings.max_attempts
        video, changed = services.videos.update(
            video_id,
            lambda v: jobs.requeue_part(
                v,
                name,
                reason,
                now(),
                max_attempts=max_attempts,
                retry_at=now() + countdown,
                outage=outage,
                max_outages=OUTAGE_RETRIES,
            ),
        )
        if jobs.part(video, name)["state"] == jobs.RungState.QUEUED.value:
            raise RetryLater(countdown, exc) from exc
        if changed:
            metrics.record_failure(services.redis, exc.code)  # out of attempts
        return changed and video["state"] in jobs.TERMINAL
    except TranscoderError as exc:
        log.warning("video %s %s failed: %s", video_id, name, exc.message)
        return _fail(services, video_id, name, exc.to_dict())
    except Exception as exc:
        log.exception("video %s %s: unexpected error", video_id, name)
        reason = {
            "code": "internal_error",
            "message": f"An internal error stopped this work ({type(exc).__name__}).",
        }
        _fail(services, video_id, name, reason)
        raise
    if name != jobs.PREVIEWS:
        metrics.record_encode(services.redis, name, time.monotonic() - began)
    video, changed = services.videos.update(video_id, lambda v: jobs.finish_part(v, name, now(), **results))
    if video["state"] == jobs.VideoState.CANCELED.value:
        services.storage.delete_prefix(video_prefix(video_id))  # canceled as it finished
    return changed and video["state"] in jobs.TERMINAL


def cancel_video(services: Services, video_id: str) -> jobs.Video:
    """Cancel a video: running encodes see the flag within a second and stop; files are removed.

    The flag is raised only once the video is recorded as canceled, so a part that
    finishes meanwhile never mistakes a finished video for a canceled one.
    """
    video, _ = services.videos.update(video_id, lambda v: jobs.cancel(v, time.time()))
    if video["state"] == jobs.VideoState.CANCELED.value:
        services.redis.set(keys.cancel_key(video_id), 1, ex=services.settings.record_ttl)
        services.storage.delete_prefix(video_prefix(video_id))
    return video


def retry_video(services: Services, video_id: str) -> tuple[jobs.Video, list[str]]:
    """Queue the failed parts of a failed video again; returns the video and those parts."""
    names: list[str] = []

    def change(video: jobs.Video) -> bool:
        names[:] = jobs.retry_failed(video)
        return bool(names)

    video, _ = services.videos.update(video_id, change)
    return video, names


def _outputs(video_id: str, name: str) -> list[str]:
    """The storage keys one part writes."""
    if name == jobs.PREVIEWS:
        return [preview_key(video_id, f) for f in ("poster.jpg", "storyboard.jpg", "storyboard.vtt")]
    return [rendition_key(video_id, name), hls_prefix(video_id, name)]


def video_prefix(video_id: str) -> str:
    return f"videos/{video_id}"


def _encode(services: Services, video: jobs.Video, name: str, watch: ffmpeg.Watch) -> dict[str, Any]:
    video_id = video["id"]
    media = MediaInfo.from_dict(video["source"])
    entry = jobs.rung(video, name)
    rendition = Rendition.from_dict({k: entry[k] for k in Rendition.__dataclass_fields__})
    reporter = _ProgressReporter(services, video_id, name, media.duration)
    limits = services.settings.limits
    with (
        services.storage.fetch(source_key(video_id)) as src,
        services.storage.writing(rendition_key(video_id, name)) as mp4,
    ):
        argv = ffmpeg.build_args(
            src,
            mp4,
            rendition,
            media,
            preset=services.settings.x264_preset,
            threads=services.settings.ffmpeg_threads,
            limits=limits,
        )
        ffmpeg.run(argv, reporter, watch)
        with services.storage.writing_dir(hls_prefix(video_id, name)) as folder:
            ffmpeg.run(hls.segment_args(mp4, folder, limits), watch=watch)
            variant = _describe_variant(mp4, folder, rendition)
    return {"hls": variant.to_dict()}


def _describe_variant(mp4: Path, folder: Path, rendition: Rendition) -> hls.Variant:
    """What the master playlist says of a rung, once its segments are checked complete.

    Some muxers exit cleanly after a failed write (a full disk), so the segments'
    durations must add up and every one must be there before the rung is ready.
    """
    probed = run_ffprobe(mp4)
    video = next((st for st in probed.get("streams", []) if st.get("codec_type") == "video"), {})
    duration = float(video.get("duration") or 0)  # segments follow the picture, not the sound
    segments = hls.parse_media_playlist((folder / hls.PLAYLIST).read_text())
    sizes = {s.uri: (folder / s.uri).stat().st_size if (folder / s.uri).exists() else 0 for s in segments}
    if not segments or 0 in sizes.values() or sum(s.duration for s in segments) < 0.9 * duration - 0.5:
        raise StorageError("The HLS segments of this rendition were not all written (is the disk full?).")
    peak, average = hls.bandwidths(segments, sizes, (folder / hls.INIT).stat().st_size)
    codecs = hls.codecs(probed)
    return hls.Variant(rendition.name, rendition.width, rendition.height, peak, average, codecs)


def _previews(services: Services, video: jobs.Video, watch: ffmpeg.Watch) -> dict[str, Any]:
    video_id = video["id"]
    media = MediaInfo.from_dict(video["source"])
    storage, limits = services.storage, services.settings.limits
    plan = previews.plan_storyboard(media)
    with storage.fetch(source_key(video_id)) as src:
        with storage.writing(preview_key(video_id, "poster.jpg")) as poster:
            ffmpeg.run(previews.poster_args(src, poster, media, limits), watch=watch)
        with storage.writing(preview_key(video_id, "storyboard.jpg")) as sprite:
            ffmpeg.run(previews.storyboard_args(src, sprite, plan, media, limits), watch=watch)
    with storage.writing(preview_key(video_id, "storyboard.vtt")) as vtt:
        vtt.write_text(previews.storyboard_vtt(plan, media.duration, "storyboard.jpg"))
    return {"storyboard": plan.to_dict()}


def _fail(services: Services, video_id: str, name: str, reason: dict[str, str]) -> bool:
    """Fail a part for good, counted by reason for /metrics; True when that ended the video.

    A part's end changes the document only if the part had not ended yet, and the
    video can only end when its last part does, so exactly one call sees both.
    """
    metrics.record_failure(services.redis, reason["code"])
    video, changed = services.videos.update(video_id, lambda v: jobs.fail_part(v, name, reason, time.time()))
    return changed and video["state"] in jobs.TERMINAL


def close_video(services: Services, video_id: str) -> jobs.Video:
    """Make sure a video whose renditions have all ended is closed, and tidy its folder."""
    _count_run(services, video_id, "close")
    video, _ = services.videos.update(video_id, lambda v: jobs.settle(v, time.time()))
    if video["state"] in jobs.TERMINAL:
        services.storage.discard_partials(video_prefix(video_id))
    return video


class _ProgressReporter:
    """Turns ffmpeg progress into at most a few state updates per second."""

    def __init__(self, services: Services, video_id: str, name: str, duration: float) -> None:
        self.services = services
        self.video_id = video_id
        self.name = name
        self.duration = duration
        self.interval = services.settings.progress_interval
        self.last = 0.0

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if progress.done or now - self.last < self.interval:
            return  # the end is reported by finish_part, once the output is in place
        self.last = now
        percent = progress.fraction(self.duration) * 100
        eta = progress.eta_seconds(self.duration)
        try:
            self.services.videos.update(
                self.video_id,
                lambda v: jobs.report_progress(v, self.name, percent, progress.fps, eta),
            )
        except redis.RedisError:
            # Progress is worth less than the encode: keep going through a Redis restart.
            log.warning("video %s %s: progress not recorded (Redis unavailable)", self.video_id, self.name)
