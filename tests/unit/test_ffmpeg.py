import threading
import time

import pytest

from transcoder.errors import Canceled, EncoderKilled, FfmpegFailed, LeaseLost, Stalled, Transient
from transcoder.ffmpeg import Watch, build_args, run
from transcoder.ladder import Rendition
from transcoder.policy import Limits
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

HEAD = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-timelimit", "21600", "-y",
        "-nostats", "-progress", "pipe:1"]  # fmt: skip
INPUT = ["-format_whitelist", "mov,matroska,avi,mpegts,flv,ogg,mxf,mpeg", "-max_pixels", "9437184",
         "-protocol_whitelist", "file", "-i", "file:/in/source"]  # fmt: skip
VIDEO_OPTS = [
    "-bufsize", "1800k",
    "-color_primaries", "bt709",
    "-color_range", "tv",
    "-color_trc", "bt709",
    "-colorspace", "bt709",
    "-crf", "23",
    "-force_key_frames", "expr:gte(t,n_forced*2)",
    "-maxrate", "900k",
    "-movflags", "+faststart",
    "-preset", "veryfast",
    "-sc_threshold", "0",
    "-t", "14400",
    "-threads", "0",
    "-vcodec", "libx264",
]  # fmt: skip
FILTER = [
    "-filter_complex",
    "[0:0]scale=640:360:in_color_matrix=bt709:out_color_matrix=bt709:out_range=tv[s0];[s0]setsar=1[s1];[s1]format=yuv420p[s2]",
]


def test_rung_with_audio():
    assert build_args("/in/source", "/out/360p.part", R360, WITH_AUDIO) == [
        *HEAD, *INPUT, *FILTER, "-map", "[s2]", "-map", "0:a:0",
        "-f", "mp4", "-b:a", "96k", "-ac", "2", "-acodec", "aac", *VIDEO_OPTS, "/out/360p.part",
    ]  # fmt: skip


def test_rung_without_audio_maps_no_audio():
    assert build_args("/in/source", "/out/360p.part", R360, SILENT) == [
        *HEAD, *INPUT, *FILTER, "-map", "[s2]", "-f", "mp4", *VIDEO_OPTS, "/out/360p.part",
    ]  # fmt: skip


def test_default_streams_by_index_and_interlaced_sources_deinterlaced():
    media = MediaInfo(
        **MEDIA, has_audio=True, audio_codec="aac", video_stream=2, audio_stream=5, interlaced=True
    )
    argv = build_args("/in/source", "/out/x", R360, media)
    assert argv[argv.index("-filter_complex") + 1] == (
        "[0:2]bwdif[s0];[s0]scale=640:360:in_color_matrix=bt709:out_color_matrix=bt709:out_range=tv[s1];[s1]setsar=1[s2];[s2]format=yuv420p[s3]"
    )
    assert argv[argv.index("-map") : argv.index("-map") + 4] == ["-map", "[s3]", "-map", "0:5"]


def test_limits_reach_the_command():
    limits = Limits(max_duration=60, max_pixels=1000, ffmpeg_cpu_seconds=30)
    argv = build_args("/in/source", "/out/x", R360, SILENT, limits=limits)
    assert argv[argv.index("-timelimit") + 1] == "30"
    assert argv[argv.index("-max_pixels") + 1] == "1000"
    assert argv[argv.index("-t") + 1] == "60"


def test_a_run_over_its_wall_time_is_killed_with_a_reason():
    argv = [
        "ffmpeg",
        "-nostdin",
        "-loglevel",
        "error",
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc=d=30",
        "-f",
        "null",
        "-",
    ]
    with pytest.raises(FfmpegFailed) as info:
        run(argv, watch=Watch(wall_seconds=0.5))
    assert info.value.message == "Encoding took longer than 0.5 seconds and was stopped."


def test_a_silent_process_is_killed_as_stalled_and_left_to_retry():
    started = time.monotonic()
    with pytest.raises(Stalled) as info:
        run(["sleep", "30"], watch=Watch(stall_seconds=0.5))
    assert time.monotonic() - started < 5
    assert isinstance(info.value, Transient)


def test_cancel_stops_the_process_within_a_poll():
    flag = {"stop": False}
    threading.Timer(0.3, lambda: flag.update(stop=True)).start()
    started = time.monotonic()
    with pytest.raises(Canceled):
        run(["sleep", "30"], watch=Watch(should_stop=lambda: flag["stop"]))
    assert time.monotonic() - started < 2


def test_killed_by_someone_else_is_worth_retrying():
    with pytest.raises(EncoderKilled) as info:
        run(["sh", "-c", "kill -9 $$"])
    assert info.value.message == "The encoder was killed by signal 9."


def test_heartbeat_runs_while_the_process_works_and_a_failing_one_is_ignored():
    beats = []

    def beat():
        beats.append(1)
        raise ConnectionError("Redis went away")

    run(["sleep", "1"], watch=Watch(heartbeat=beat, heartbeat_seconds=0.2))
    assert len(beats) >= 3


def test_a_full_disk_is_named():
    argv = ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=d=1", "-f", "mp4",
            "-y", "/dev/full"]  # fmt: skip
    with pytest.raises(FfmpegFailed) as info:
        run(argv)
    assert info.value.code == "storage_full"
    assert "ran out of disk space" in info.value.message


def test_preset_and_threads_come_from_the_caller():
    argv = build_args("a", "b", R360, SILENT, preset="medium", threads=2)
    assert argv[argv.index("-preset") + 1] == "medium"
    assert argv[argv.index("-threads") + 1] == "2"


def test_failure_keeps_the_reason():
    with pytest.raises(FfmpegFailed) as info:
        run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", "/nonexistent/input.mp4", "-f", "null", "-"])
    assert info.value.returncode != 0
    assert "No such file or directory" in info.value.message


def test_a_lost_lease_stops_the_run_at_once():
    began = time.monotonic()
    with pytest.raises(LeaseLost):
        run(["sleep", "5"], watch=Watch(heartbeat=lambda: False, heartbeat_seconds=0.2, poll_seconds=0.05))
    assert time.monotonic() - began < 2
