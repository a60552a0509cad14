"""The use cases the web app and the tasks call: accept an upload, encode a rung, close a video."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import BinaryIO

from . import ffmpeg, jobs, keys
from .errors import InvalidInput, TranscoderError
from .ladder import Rendition, plan
from .probe import MediaInfo, probe
from .progress import Progress
from .services import Services
from .storage import rendition_key, source_key

log = logging.getLogger(__name__)


def accept_upload(services: Services, stream: BinaryIO, filename: str) -> jobs.Video:
    """Store an upload, check that it is a video we can read, and record it as queued.

    A refused upload leaves nothing behind: no file, no record.
    """
    video_id = jobs.new_video_id()
    key = source_key(video_id)
    try:
        size = services.storage.put_stream(key, stream)
        if size == 0:
            raise InvalidInput("The uploaded file is empty.", code="empty_file")
        media = probe(services.storage.local_input(key))
    except BaseException:
        services.storage.delete_prefix(f"videos/{video_id}")
        raise
    video = jobs.new_video(video_id, filename, media, plan(media.width, media.height), time.time())
    return services.videos.create(video)


def encode_rendition(services: Services, video_id: str, name: str, worker: str) -> bool:
    """Encode one rung of a video and record the outcome; running it twice is harmless.

    Returns True when this call's outcome ended the video (every rung has ended),
    which happens for exactly one call per video.
    """
    videos = services.videos
    with services.redis.pipeline() as pipe:
        pipe.hincrby(keys.runs_key(video_id), name, 1)
        pipe.expire(keys.runs_key(video_id), services.settings.record_ttl)
        pipe.execute()
    video, started = videos.update(video_id, lambda v: jobs.start_rung(v, name, worker))
    if not started:
        log.info("video %s %s: already %s, nothing to do", video_id, name, jobs.rung(video, name)["state"])
        return False
    try:
        media = MediaInfo.from_dict(video["source"])
        entry = jobs.rung(video, name)
        rendition = Rendition.from_dict({k: entry[k] for k in Rendition.__dataclass_fields__})
        reporter = _ProgressReporter(services, video_id, name, media.duration)
        src = services.storage.local_input(source_key(video_id))
        with services.storage.writing(rendition_key(video_id, name)) as tmp:
            argv = ffmpeg.build_args(
                src,
                tmp,
                rendition,
                media,
                preset=services.settings.x264_preset,
                threads=services.settings.ffmpeg_threads,
            )
            ffmpeg.run(argv, reporter)
    except TranscoderError as exc:
        log.warning("video %s %s failed: %s", video_id, name, exc.message)
        reason = exc.to_dict()
        return _record_end(services, video_id, lambda v: jobs.fail_rung(v, name, reason, time.time()))
    except Exception as exc:
        log.exception("video %s %s: unexpected error", video_id, name)
        reason = {
            "code": "internal_error",
            "message": f"An internal error stopped this rendition ({type(exc).__name__}).",
        }
        _record_end(services, video_id, lambda v: jobs.fail_rung(v, name, reason, time.time()))
        raise
    return _record_end(services, video_id, lambda v: jobs.finish_rung(v, name, time.time()))


def _record_end(services: Services, video_id: str, change: Callable[[jobs.Video], bool]) -> bool:
    """Apply a rung's final transition; True when it was the one that ended the video.

    A rung's end changes the document only if the rung had not ended yet, and the
    video can only end when its last rung does, so exactly one call sees both.
    """
    video, changed = services.videos.update(video_id, change)
    return changed and video["state"] in jobs.TERMINAL


def close_video(services: Services, video_id: str) -> jobs.Video:
    """Make sure a video whose renditions have all ended is closed; safe to call any time."""
    video, _ = services.videos.update(video_id, lambda v: jobs.settle(v, time.time()))
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
            return  # the end is reported by finish_rung, once the output is in place
        self.last = now
        percent = progress.fraction(self.duration) * 100
        eta = progress.eta_seconds(self.duration)
        self.services.videos.update(
            self.video_id,
            lambda v: jobs.report_progress(v, self.name, percent, progress.fps, eta),
        )
