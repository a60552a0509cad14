import threading
import time

import pytest

from transcoder.errors import Canceled, EncoderKilled, FfmpegFailed, LeaseLost, Stalled, Transient
from transcoder.media.process import Watch, run


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
