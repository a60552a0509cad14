"""Building and running ffmpeg.

``build_args`` is pure and returns the whole argument list, built with
ffmpeg-python; ``run`` is the one place that starts ffmpeg, and it always
reaps it, together with anything it started, even when the caller is interrupted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import ffmpeg

from .errors import FfmpegFailed
from .ladder import Rendition
from .policy import DEFAULT_LIMITS, Limits, command_head, input_options, local_input
from .probe import MediaInfo
from .progress import Progress, parse_blocks

#: Seconds between forced keyframes: the same in every rung, so rungs switch cleanly.
KEYFRAME_INTERVAL_S = 2
CRF = 23
STDERR_TAIL_CHARS = 2000


def build_args(
    src: Path | str,
    dst: Path | str,
    rendition: Rendition,
    media: MediaInfo,
    *,
    preset: str = "veryfast",
    threads: int = 0,
    limits: Limits = DEFAULT_LIMITS,
) -> list[str]:
    """The ffmpeg command that turns ``src`` into one rendition at ``dst`` (an MP4).

    ffmpeg rotates the picture upright itself (autorotate) before our filters, so
    the scale is to the displayed size and the output carries no rotation.
    """
    source = ffmpeg.input(local_input(src), **input_options(limits))
    video = source[str(media.video_stream)]
    if media.interlaced:
        video = video.filter("bwdif")
    video = (
        video.filter("scale", rendition.width, rendition.height)
        .filter("setsar", 1)
        .filter("format", "yuv420p")
    )
    options: dict[str, object] = {
        "format": "mp4",
        "movflags": "+faststart",
        "vcodec": "libx264",
        "preset": preset,
        "crf": CRF,
        "maxrate": f"{rendition.video_maxrate_k}k",
        "bufsize": f"{rendition.video_maxrate_k * 2}k",
        "force_key_frames": f"expr:gte(t,n_forced*{KEYFRAME_INTERVAL_S})",
        "sc_threshold": 0,
        "threads": threads,
        # The header's duration can lie; never encode more than the longest video we accept.
        "t": limits.max_duration,
    }
    streams = [video]
    if media.has_audio:
        streams.append(source["a:0" if media.audio_stream is None else str(media.audio_stream)])
        options.update(acodec="aac", audio_bitrate=f"{rendition.audio_bitrate_k}k", ac=2)
    output = ffmpeg.output(*streams, str(dst), **options)
    return output.compile(cmd=command_head(limits) + ["-nostats", "-progress", "pipe:1"])


def run(
    argv: list[str],
    on_progress: Callable[[Progress], None] | None = None,
    wall_seconds: float | None = None,
) -> None:
    """Run ffmpeg to the end, reporting each progress block; raise ``FfmpegFailed`` on failure.

    ffmpeg gets its own process group, so a kill reaches it and anything it forked,
    and an interrupted caller (time limit, cancel, shutdown) never leaves it running.
    A run longer than ``wall_seconds`` is killed.
    """
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,
            text=True,
        )
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            _kill_group(proc)

        timer = threading.Timer(wall_seconds, expire) if wall_seconds else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            assert proc.stdout is not None
            for progress in parse_blocks(proc.stdout):
                if on_progress is not None:
                    on_progress(progress)
            returncode = proc.wait()
        finally:
            if timer is not None:
                timer.cancel()
            if proc.poll() is None:
                _kill_group(proc)
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if expired.is_set():
            raise FfmpegFailed(
                f"Encoding took longer than {wall_seconds:g} seconds and was stopped.",
                returncode=returncode,
                stderr_tail="",
            )
        if returncode != 0:
            stderr.seek(0)
            tail = stderr.read().decode("utf-8", "replace")[-STDERR_TAIL_CHARS:]
            raise FfmpegFailed(_explain(returncode, tail), returncode=returncode, stderr_tail=tail)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _explain(returncode: int, tail: str) -> str:
    if returncode < 0:
        return f"The encoder was stopped by signal {-returncode}."
    last = next((line for line in reversed(tail.splitlines()) if line.strip()), "")
    if last:
        return f"The encoder could not process this video: {last.strip()}"
    return f"The encoder failed with exit code {returncode}."
