"""The ffmpeg runner's guarantees on real processes: an ffmpeg never outlives the process that
started it, a stalled one is killed, and a cancel kills it at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.support.processes import ROOT
from transcoder.errors import Canceled, Stalled
from transcoder.media import process


def slow_ffmpeg(marker: str) -> list[str]:
    """Half a minute of work at the speed of a clock, with progress blocks on stdout."""
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-progress", "pipe:1",
            "-stats_period", "0.2", "-re", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=30",
            "-metadata", f"title={marker}", "-f", "null", "-"]  # fmt: skip


def pids_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline and cmdline.startswith(b"ffmpeg"):
                found.append(int(entry.name))
    return found


def wait_until(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.fixture
def marker():
    marker = f"marker-{uuid.uuid4().hex}"
    yield marker
    for pid in pids_with(marker):  # never leave one behind, whatever the test found
        os.kill(pid, signal.SIGKILL)


def test_ffmpeg_dies_with_the_process_that_started_it(marker):
    code = f"from transcoder.media import process; process.run({slow_ffmpeg(marker)!r})"
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    [pid] = wait_until(lambda: pids_with(marker), 10, "ffmpeg started")
    parent.kill()  # SIGKILL: the runner gets no chance to clean up
    parent.wait()
    killed_at = time.monotonic()
    wait_until(lambda: not pids_with(marker), 2, "ffmpeg gone after the process that started it died")
    assert time.monotonic() - killed_at < 2


def run_in_thread(argv: list[str], watch: process.Watch) -> dict:
    """``process.run`` in a thread; its outcome, and each progress block it reported in
    ``outcome["progress"]``."""
    outcome: dict = {"progress": []}

    def target() -> None:
        try:
            process.run(argv, on_progress=outcome["progress"].append, watch=watch)
        except Exception as exc:  # the test looks at which error it was
            outcome["error"] = exc
        outcome["ended"] = time.monotonic()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    outcome["thread"] = thread
    return outcome


def test_a_stalled_ffmpeg_is_killed(marker):
    outcome = run_in_thread(slow_ffmpeg(marker), process.Watch(stall_seconds=1.0, poll_seconds=0.1))
    [pid] = wait_until(lambda: pids_with(marker), 10, "ffmpeg started")
    wait_until(lambda: outcome["progress"], 10, "ffmpeg reporting progress")  # then it stalls
    os.kill(pid, signal.SIGSTOP)
    stopped_at = time.monotonic()
    outcome["thread"].join(1.0 + 1.5 + 2)  # the bound below, and time to see it missed
    assert isinstance(outcome.get("error"), Stalled), outcome
    assert outcome["ended"] - stopped_at < 1.0 + 1.5
    assert not pids_with(marker)


def test_a_cancel_kills_ffmpeg_at_once(marker):
    asked = threading.Event()
    watch = process.Watch(should_stop=asked.is_set, poll_seconds=0.1)
    outcome = run_in_thread(slow_ffmpeg(marker), watch)
    wait_until(lambda: pids_with(marker), 10, "ffmpeg started")
    wait_until(lambda: outcome["progress"], 10, "ffmpeg reporting progress")  # at work when canceled
    asked.set()
    at = time.monotonic()
    outcome["thread"].join(1.0 + 2)  # the bound below, and time to see it missed
    assert isinstance(outcome.get("error"), Canceled), outcome
    assert outcome["ended"] - at < 1.0
    assert not pids_with(marker)
