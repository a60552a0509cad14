import pytest

from transcoder.errors import FfmpegFailed
from transcoder.ffmpeg import build_args, run
from transcoder.ladder import Rendition
from transcoder.probe import MediaInfo

MEDIA = dict(
    duration=5.312,
    coded_width=1280,
    coded_height=720,
    width=1280,
    height=720,
    rotation=0,
    sample_aspect_ratio="1:1",
    fps=25.0,
    video_codec="h264",
    pix_fmt="yuv420p",
    format_name="mov,mp4,m4a,3gp,3g2,mj2",
)
WITH_AUDIO = MediaInfo(**MEDIA, has_audio=True, audio_codec="aac")
SILENT = MediaInfo(**MEDIA, has_audio=False, audio_codec=None)
R360 = Rendition("360p", 640, 360, 900, 96)

HEAD = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-nostats", "-progress", "pipe:1", "-y"]
VIDEO_OPTS = [
    "-bufsize", "1800k",
    "-crf", "23",
    "-force_key_frames", "expr:gte(t,n_forced*2)",
    "-maxrate", "900k",
    "-movflags", "+faststart",
    "-preset", "veryfast",
    "-sc_threshold", "0",
    "-threads", "0",
    "-vcodec", "libx264",
]  # fmt: skip
FILTER = ["-filter_complex", "[0:v:0]scale=640:360[s0];[s0]setsar=1[s1];[s1]format=yuv420p[s2]"]


def test_rung_with_audio():
    assert build_args("/in/source", "/out/360p.part", R360, WITH_AUDIO) == [
        *HEAD, "-i", "/in/source", *FILTER, "-map", "[s2]", "-map", "0:a:0",
        "-f", "mp4", "-b:a", "96k", "-ac", "2", "-acodec", "aac", *VIDEO_OPTS, "/out/360p.part",
    ]  # fmt: skip


def test_rung_without_audio_maps_no_audio():
    assert build_args("/in/source", "/out/360p.part", R360, SILENT) == [
        *HEAD, "-i", "/in/source", *FILTER, "-map", "[s2]", "-f", "mp4", *VIDEO_OPTS, "/out/360p.part",
    ]  # fmt: skip


def test_preset_and_threads_come_from_the_caller():
    argv = build_args("a", "b", R360, SILENT, preset="medium", threads=2)
    assert argv[argv.index("-preset") + 1] == "medium"
    assert argv[argv.index("-threads") + 1] == "2"


def test_failure_keeps_the_reason():
    with pytest.raises(FfmpegFailed) as info:
        run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", "/nonexistent/input.mp4", "-f", "null", "-"])
    assert info.value.returncode != 0
    assert "No such file or directory" in info.value.message
