"""The use cases the web app and the tasks call: accept an upload, encode a rung, close a video."""

from __future__ import annotations

import logging
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from . import ffmpeg, hls, jobs, keys, previews
from .errors import InvalidInput, TranscoderError
from .ladder import Rendition, plan
from .probe import MediaInfo, probe, run_ffprobe
from .progress import Progress
from .services import Services
from .storage import hls_prefix, preview_key, rendition_key, source_key

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
        media = probe(services.storage.local_input(key), services.settings.limits)
    except BaseException:
        services.storage.delete_prefix(f"videos/{video_id}")
        raise
    name = clean_filename(filename)
    video = jobs.new_video(video_id, name, media, plan(media.width, media.height), time.time())
    return services.videos.create(video)


def clean_filename(name: str) -> str:
    """The upload's own name, kept only to show people: no folders, no control or direction
    characters (a right-to-left override can disguise an extension), at most 255 characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    return name.strip()[:255]


def encode_rendition(services: Services, video_id: str, name: str, worker: str) -> bool:
    """Encode one rung (MP4 and HLS) and record the outcome; running it twice is harmless.

    Returns True when this call's outcome ended the video (all its work has ended),
    which happens for exactly one call per video.
    """
    return _run_part(services, video_id, name, worker, lambda video: _encode(services, video, name))


def make_previews(services: Services, video_id: str, worker: str) -> bool:
    """Make the poster and the storyboard; like ``encode_rendition`` otherwise."""
    return _run_part(services, video_id, jobs.PREVIEWS, worker, lambda video: _previews(services, video))


def _run_part(
    services: Services,
    video_id: str,
    name: str,
    worker: str,
    work: Callable[[jobs.Video], dict[str, Any]],
) -> bool:
    with services.redis.pipeline() as pipe:
        pipe.hincrby(keys.runs_key(video_id), name, 1)
        pipe.expire(keys.runs_key(video_id), services.settings.record_ttl)
        pipe.execute()
    video, started = services.videos.update(video_id, lambda v: jobs.start_part(v, name, worker))
    if not started:
        log.info("video %s %s: already %s, nothing to do", video_id, name, jobs.part(video, name)["state"])
        return False
    try:
        results = work(video)
    except TranscoderError as exc:
        log.warning("video %s %s failed: %s", video_id, name, exc.message)
        reason = exc.to_dict()
        return _record_end(services, video_id, lambda v: jobs.fail_part(v, name, reason, time.time()))
    except Exception as exc:
        log.exception("video %s %s: unexpected error", video_id, name)
        reason = {
            "code": "internal_error",
            "message": f"An internal error stopped this work ({type(exc).__name__}).",
        }
        _record_end(services, video_id, lambda v: jobs.fail_part(v, name, reason, time.time()))
        raise
    return _record_end(services, video_id, lambda v: jobs.finish_part(v, name, time.time(), **results))


def _encode(services: Services, video: jobs.Video, name: str) -> dict[str, Any]:
    video_id = video["id"]
    media = MediaInfo.from_dict(video["source"])
    entry = jobs.rung(video, name)
    rendition = Rendition.from_dict({k: entry[k] for k in Rendition.__dataclass_fields__})
    reporter = _ProgressReporter(services, video_id, name, media.duration)
    limits = services.settings.limits
    src = services.storage.local_input(source_key(video_id))
    with services.storage.writing(rendition_key(video_id, name)) as mp4:
        argv = ffmpeg.build_args(
            src,
            mp4,
            rendition,
            media,
            preset=services.settings.x264_preset,
            threads=services.settings.ffmpeg_threads,
            limits=limits,
        )
        ffmpeg.run(argv, reporter, wall_seconds=limits.ffmpeg_wall_seconds)
        with services.storage.writing_dir(hls_prefix(video_id, name)) as folder:
            ffmpeg.run(hls.segment_args(mp4, folder, limits), wall_seconds=limits.ffmpeg_wall_seconds)
            variant = _describe_variant(mp4, folder, rendition)
    return {"hls": variant.to_dict()}


def _describe_variant(mp4: Path, folder: Path, rendition: Rendition) -> hls.Variant:
    segments = hls.parse_media_playlist((folder / hls.PLAYLIST).read_text())
    sizes = {s.uri: (folder / s.uri).stat().st_size for s in segments}
    peak, average = hls.bandwidths(segments, sizes, (folder / hls.INIT).stat().st_size)
    codecs = hls.codecs(run_ffprobe(mp4))
    return hls.Variant(rendition.name, rendition.width, rendition.height, peak, average, codecs)


def _previews(services: Services, video: jobs.Video) -> dict[str, Any]:
    video_id = video["id"]
    media = MediaInfo.from_dict(video["source"])
    src = services.storage.local_input(source_key(video_id))
    storage, limits = services.storage, services.settings.limits
    wall = limits.ffmpeg_wall_seconds
    with storage.writing(preview_key(video_id, "poster.jpg")) as poster:
        ffmpeg.run(previews.poster_args(src, poster, media, limits), wall_seconds=wall)
    plan = previews.plan_storyboard(media)
    with storage.writing(preview_key(video_id, "storyboard.jpg")) as sprite:
        ffmpeg.run(previews.storyboard_args(src, sprite, plan, media, limits), wall_seconds=wall)
    with storage.writing(preview_key(video_id, "storyboard.vtt")) as vtt:
        vtt.write_text(previews.storyboard_vtt(plan, media.duration, "storyboard.jpg"))
    return {"storyboard": plan.to_dict()}


def _record_end(services: Services, video_id: str, change: Callable[[jobs.Video], bool]) -> bool:
    """Apply a part's final transition; True when it was the one that ended the video.

    A part's end changes the document only if the part had not ended yet, and the
    video can only end when its last part does, so exactly one call sees both.
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
            return  # the end is reported by finish_part, once the output is in place
        self.last = now
        percent = progress.fraction(self.duration) * 100
        eta = progress.eta_seconds(self.duration)
        self.services.videos.update(
            self.video_id,
            lambda v: jobs.report_progress(v, self.name, percent, progress.fps, eta),
        )
