"""Test media: lavfi clips made by ffmpeg, a video's document as an upload would make it, and
ffprobe's view of an output (one helper, not one per test module)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from transcoder.media.probe import MediaInfo
from transcoder.records import transitions

#: A short 640x272 silent H.264 video's probe, for tests that need a document, not a file.
SMALL_MEDIA = MediaInfo(5.0, 640, 272, 640, 272, 0, "1:1", 25.0, False, "h264", None, "yuv420p", "mov")


def ffprobe_json(path: Path | str, *options: str) -> dict[str, Any]:
    """ffprobe's JSON of ``path`` (``-show_format -show_streams`` unless options say otherwise)."""
    argv = [
        "ffprobe",
        "-v",
        "error",
        *(options or ("-show_format", "-show_streams")),
        "-of",
        "json",
        str(path),
    ]
    return json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)


def make_clip(path: Path, *, size: str, seconds: float, audio: bool, rate: int = 25, crf: int = 23) -> Path:
    """A test clip from ffmpeg's lavfi sources: moving pattern, optional tone."""
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
            f"testsrc2=size={size}:rate={rate}:duration={seconds}"]  # fmt: skip
    if audio:
        argv += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", str(crf), "-pix_fmt", "yuv420p"]
    argv += ["-c:a", "aac", "-shortest"] if audio else []
    subprocess.run([*argv, str(path)], check=True)
    return path


DATA = Path(__file__).resolve().parents[1] / "data"


def film_clip(
    path: Path, *, seconds: float, keyframe_s: float | None = None, hevc_10bit: bool = False
) -> Path:
    """Footage like users upload, from the film excerpt in ``tests/data``: looped to ``seconds``
    and scaled to 1080p, with its sound. x264 veryfast CRF 20 places keyframes as it does by
    default (at each cut, else every 250 frames); ``keyframe_s`` forces one that often, as
    phones write them; ``hevc_10bit`` makes it HEVC in 10-bit SDR instead."""
    pixels = "yuv420p10le" if hevc_10bit else "yuv420p"
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", "-1",
            "-i", str(DATA / "bigbuckbunny.mp4"), "-t", str(seconds),
            "-vf", f"scale=1920:1080:flags=bicubic,format={pixels}"]  # fmt: skip
    if hevc_10bit:
        argv += ["-c:v", "libx265", "-preset", "ultrafast", "-crf", "22", "-x265-params", "log-level=error",
                 "-tag:v", "hvc1"]  # fmt: skip
    else:
        argv += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20"]
    if keyframe_s:
        argv += ["-force_key_frames", f"expr:gte(t,n_forced*{keyframe_s})"]
    argv += ["-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart"]
    subprocess.run([*argv, str(path)], check=True)
    return path


@pytest.fixture(scope="session")
def lavfi_clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "tone.mp4", size="640x360", seconds=4, audio=True)


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory) -> Path:
    """Long enough at 720p that a part reports progress several times before it ends."""
    return make_clip(tmp_path_factory.mktemp("clips") / "long.mp4", size="1280x720", seconds=12, audio=True)


def video_record(video_id: str, media, shape: str = "renditions"):
    """A video's document as an upload would make it, from a made-up frame list (25 fps, a
    keyframe every 2 s); in the ``renditions`` shape its parts are v00 (144p), v01 (240p) and so on."""
    from transcoder.media import planner
    from transcoder.media.frames import Frames
    from transcoder.media.ladder import renditions_for
    from transcoder.media.previews import lay_out_storyboard

    count = round(media.duration * 25)
    frames = Frames(tuple(i / 25 for i in range(count)), frozenset(range(0, count, 50)))
    ladder = renditions_for(media.width, media.height)
    bitrates = [r.audio_bitrate_k for r in ladder] if media.has_audio else []
    parts = planner.plan(
        frames, [r.name for r in ladder], lay_out_storyboard(media), audio_bitrates=bitrates, shape=shape
    )
    return transitions.new_video(video_id, "a.mp4", media, ladder, parts, now=1.0)
