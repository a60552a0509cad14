"""Running one part of a video: its lease, its start, the watch over ffmpeg, its outcome.

Whatever a part does (encode pictures, encode the sound, join), it runs here, so
every part gets the same guarantees: one run at a time (the lease), a duplicate
run that changes nothing, retries with backoff for passing trouble, a permanent
failure recorded with its reason, and nothing left if the video was canceled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from transcoder.errors import (
    Canceled,
    ErrorInfo,
    LeaseLost,
    RetryLater,
    TranscoderError,
    Transient,
    VideoNotFound,
)
from transcoder.media import process
from transcoder.media.progress import Progress
from transcoder.ops import metrics
from transcoder.records import redis_keys, states, transitions
from transcoder.records.leases import Lease
from transcoder.services import Services
from transcoder.storage.layout import video_prefix
from transcoder.work import encode, join, retry, weighing

log = logging.getLogger(__name__)

#: What a part does: given the video, the part, the watch and the reporter, its results.
Work = Callable[
    [Services, states.Video, states.PartEntry, process.Watch, "ProgressReporter"], states.PartResults
]
#: Each kind of part's work, and the storage keys it writes.
WORK: dict[str, Work] = {"video": encode.encode_pictures, "audio": encode.encode_sound, "join": join.join}
OUTPUTS: dict[str, Callable[[states.Video, states.PartEntry], list[str]]] = {
    "video": encode.outputs,
    "audio": encode.outputs,
    "join": join.outputs,
}


@dataclass
class Outcome:
    """What the caller must do next: close the video (this run ended it), and send these parts."""

    ended: bool = False
    follow: list[str] = field(default_factory=list)


def run(services: Services, video_id: str, part_id: str, worker: str) -> Outcome:
    """Run a part once its lease is ours; running it twice is harmless.

    Temporary copies of its outputs that a killed run left are removed first. Raises
    ``RetryLater`` when the failure was transient and the part should run again after a pause.
    """
    settings = services.settings
    count_run(services, video_id, part_id)
    lease = Lease(services.redis, redis_keys.lease_key(video_id, part_id), settings.lease_seconds)
    if not lease.acquire():
        log.info("video %s %s: another worker is running it; this copy does nothing", video_id, part_id)
        count_run(services, video_id, f"refused:{part_id}")
        metrics.record_lease_refusal(services.redis)
        return Outcome()
    try:
        video, started = services.videos.update(
            video_id, lambda v: transitions.start_part(v, part_id, worker, time.time(), settings.max_attempts)
        )
        entry = states.part(video, part_id)
        if not started:
            log.info("video %s %s: %s, nothing to do", video_id, part_id, entry["state"])
            return Outcome()
        watch = process.Watch(
            wall_seconds=settings.ffmpeg_wall_seconds,
            stall_seconds=settings.stall_seconds,
            should_stop=lambda: bool(services.redis.exists(redis_keys.cancel_key(video_id))),
            heartbeat=lease.renew,
            heartbeat_seconds=settings.lease_seconds / 3,
        )
        reporter = ProgressReporter(services, video, part_id, entry)

        def attempt() -> states.PartResults:
            for key in OUTPUTS[entry["kind"]](video, entry):
                services.storage.discard_partials(key)  # left by a run of this part that was killed
            return WORK[entry["kind"]](services, video, entry, watch, reporter)

        return _finish(services, video_id, part_id, attempt, lease.renew)
    finally:
        lease.release()


def count_run(services: Services, video_id: str, what: str) -> None:
    """Per video: how often each part's task was delivered, refused by the lease, or closed.

    Counts duplicates too, so operators and the fault trials can see at-least-once
    delivery at work, and the leases and the single close doing their job.
    """
    with services.redis.pipeline() as pipe:
        pipe.hincrby(redis_keys.runs_key(video_id), what, 1)
        pipe.expire(redis_keys.runs_key(video_id), redis_keys.FLAG_TTL)
        pipe.execute()


def _finish(
    services: Services,
    video_id: str,
    part_id: str,
    work: Callable[[], states.PartResults],
    still_ours: Callable[[], bool],
) -> Outcome:
    """Run the work and record its outcome: ready, queued again, failed, or nothing if canceled.

    A failure is recorded only while the part's lease is still ours: a run whose lease
    another run took (Redis lost it, and the part was sent again) may fail only because
    that run cleared its half-written outputs, and the part's outcome is the other's.
    """
    now = time.time
    began = time.monotonic()
    try:
        results = work()
    except Canceled:
        log.info("video %s %s: canceled while running", video_id, part_id)
        services.storage.delete_prefix(video_prefix(video_id))
        return Outcome()
    except LeaseLost as exc:
        log.warning("video %s %s: %s", video_id, part_id, exc.message)
        return Outcome()  # the run that holds the lease records the outcome
    except TranscoderError as exc:
        if not still_ours():
            log.warning("video %s %s: another run took the part; this one records nothing", video_id, part_id)
            return Outcome()
        if isinstance(exc, Transient):
            return _again(services, video_id, part_id, exc)
        log.warning("video %s %s failed: %s", video_id, part_id, exc.message)
        return fail(services, video_id, part_id, exc.to_dict())
    except Exception as exc:
        log.exception("video %s %s: unexpected error", video_id, part_id)
        reason: ErrorInfo = {
            "code": "internal_error",
            "message": f"An internal error stopped this work ({type(exc).__name__}).",
        }
        fail(services, video_id, part_id, reason)
        raise
    follow: list[str] = []

    def change(video: states.Video) -> bool:
        if not transitions.finish_part(video, part_id, now(), results):
            return False
        follow[:] = transitions.release(video, now())
        return True

    try:
        video, changed = weighing.update(services, video_id, change)
    except VideoNotFound:
        log.info("video %s %s: deleted while running", video_id, part_id)
        services.storage.delete_prefix(video_prefix(video_id))  # what this run wrote
        return Outcome()
    kind = states.part(video, part_id)["kind"]
    metrics.record_encode(services.redis, kind, time.monotonic() - began)
    if video["state"] == states.VideoState.CANCELED:
        services.storage.delete_prefix(video_prefix(video_id))  # canceled as it finished
    return Outcome(changed and video["state"] in states.TERMINAL, follow if changed else [])


def _again(services: Services, video_id: str, part_id: str, exc: Transient) -> Outcome:
    """Queue the part again after a pause, or fail it once it is out of attempts."""
    now = time.time
    # Storage out of reach is nobody's fault: it does not use up the part's attempts,
    # and is waited out retry.OUTAGE_RETRIES times before the part fails.
    outage = exc.code == "storage_unreachable"
    entry = states.part(services.videos.get(video_id), part_id)
    countdown = retry.backoff_seconds(entry["outages"] + 1 if outage else entry["attempts"])
    log.warning("video %s %s: %s; trying again in %g s", video_id, part_id, exc.message, countdown)
    reason, max_attempts = exc.to_dict(), services.settings.max_attempts
    video, changed = weighing.update(
        services,
        video_id,
        lambda v: transitions.requeue_part(
            v,
            part_id,
            reason,
            now(),
            max_attempts=max_attempts,
            retry_at=now() + countdown,
            outage=outage,
            max_outages=retry.OUTAGE_RETRIES,
        ),
    )
    if states.part(video, part_id)["state"] == states.PartState.QUEUED:
        raise RetryLater(countdown, exc) from exc
    if changed:
        metrics.record_failure(services.redis, exc.code)  # out of attempts
    return Outcome(changed and video["state"] in states.TERMINAL)


def fail(services: Services, video_id: str, part_id: str, reason: ErrorInfo) -> Outcome:
    """Fail a part for good, counted by reason for /metrics.

    A part's end changes the document only if the part had not ended yet, and the
    video can only end when its last part does, so exactly one call ends it.
    """
    metrics.record_failure(services.redis, reason["code"])
    video, changed = weighing.update(
        services, video_id, lambda v: transitions.fail_part(v, part_id, reason, time.time())
    )
    return Outcome(changed and video["state"] in states.TERMINAL)


class ProgressReporter:
    """Turns ffmpeg progress into at most a few state updates per second.

    A part's share done is the frames it has encoded over those it must; a part
    that encodes no pictures (the sound) goes by time.
    """

    def __init__(
        self, services: Services, video: states.Video, part_id: str, entry: states.PartEntry
    ) -> None:
        self.services = services
        self.video_id = video["id"]
        self.part_id = part_id
        # Deinterlacing makes a picture of each field: twice the source's frames.
        self.frames = (entry.get("frames") or 0) * (2 if video["source"].get("interlaced") else 1)
        self.seconds = entry.get("seconds") or 0.0
        self.interval = services.settings.progress_interval
        self.last = 0.0
        #: Frames ffmpeg said it encoded, at its last report (the whole part's, once it ended).
        self.encoded = 0

    def __call__(self, progress: Progress) -> None:
        self.encoded = progress.frame
        now = time.monotonic()
        if progress.done or now - self.last < self.interval:
            return  # the end is reported by finish_part, once the output is in place
        self.last = now
        if self.frames:
            share = min(progress.frame / self.frames, 0.999)
            eta = (self.frames - progress.frame) / progress.fps if progress.fps else None
        else:
            share, eta = progress.fraction(self.seconds), progress.eta_seconds(self.seconds)
        try:
            self.services.videos.update(
                self.video_id,
                lambda v: transitions.report_progress(v, self.part_id, share * 100, progress.fps, eta),
            )
        except redis.RedisError:
            # Progress is worth less than the encode: keep going through a Redis restart.
            log.warning("video %s %s: progress not recorded (Redis unavailable)", self.video_id, self.part_id)
