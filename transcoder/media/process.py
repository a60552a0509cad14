"""Running ffmpeg: the one place that starts it, watches it and reaps it.

``run`` always reaps ffmpeg, together with anything it started, even when the caller
is interrupted. The argument lists are built, purely, in ``transcoder.media.commands``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from transcoder.errors import Canceled, EncoderKilled, FfmpegFailed, LeaseLost, Stalled
from transcoder.media.progress import Progress, parse_blocks

STDERR_TAIL_CHARS = 2000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Watch:
    """What ``run`` watches for while ffmpeg works."""

    #: Kill a run that takes longer than this (permanent failure).
    wall_seconds: float | None = None
    #: Kill a run that reports no progress for this long (worth retrying); only for
    #: commands that report progress.
    stall_seconds: float | None = None
    #: Polled while running; True means the user canceled: kill at once.
    should_stop: Callable[[], bool] | None = None
    #: Called every ``heartbeat_seconds`` while running (lease renewal). False means the work
    #: now belongs to another run: kill at once. An error (Redis blinked) is ignored.
    heartbeat: Callable[[], bool] | None = None
    heartbeat_seconds: float = 5.0
    poll_seconds: float = 0.25


def run(
    argv: list[str],
    on_progress: Callable[[Progress], None] | None = None,
    watch: Watch | None = None,
    *,
    niceness: int = 0,
) -> float:
    """Run ffmpeg to the end, reporting each progress block; raise one of our errors on failure.
    Returns the CPU seconds it used, so each part's cost is on record where it happened.

    ffmpeg gets its own process group, so a kill reaches it and anything it forked,
    and an interrupted caller (time limit, cancel, shutdown) never leaves it running.
    A monitor thread enforces ``watch``. A positive ``niceness`` lets ffmpegs of more
    urgent work on the same machine have the CPU first.
    """
    watch = watch or Watch()
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=functools.partial(_prepare_child, niceness),
            text=True,
        )
        monitor = _Monitor(proc, watch)
        monitor.start()
        try:
            assert proc.stdout is not None
            for progress in parse_blocks(proc.stdout):
                monitor.last_progress = time.monotonic()
                if on_progress is not None:
                    # A stall is ffmpeg's silence, not ours: time spent recording progress
                    # (Redis restarting, say) never counts against the encode.
                    monitor.reporting = True
                    try:
                        on_progress(progress)
                    finally:
                        monitor.reporting = False
                        monitor.last_progress = time.monotonic()
            returncode, cpu = _reap(proc)
        finally:
            monitor.stop()
            if proc.poll() is None:
                _kill_group(proc)
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if monitor.reason == "canceled":
            raise Canceled("The video was canceled.")
        if monitor.reason == "lease_lost":
            raise LeaseLost("Another run took over this work (its lease was lost); this one stopped.")
        if monitor.reason == "stalled":
            raise Stalled(
                f"The encoder made no progress for {watch.stall_seconds:g} seconds and was stopped."
            )
        if monitor.reason == "timeout":
            raise FfmpegFailed(
                f"Encoding took longer than {watch.wall_seconds:g} seconds and was stopped.",
                returncode=returncode,
                stderr_tail="",
            )
        if returncode < 0:
            raise EncoderKilled(f"The encoder was killed by signal {-returncode}.")
        if returncode != 0:
            stderr.seek(0)
            tail = stderr.read().decode("utf-8", "replace")[-STDERR_TAIL_CHARS:]
            raise _failure(returncode, tail)
    return cpu


def _reap(proc: subprocess.Popen[str]) -> tuple[int, float]:
    """Wait for ffmpeg and read its CPU time (user and system) from the kernel as it is reaped."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime


class _Monitor(threading.Thread):
    def __init__(self, proc: subprocess.Popen[str], watch: Watch) -> None:
        super().__init__(daemon=True)
        self.proc, self.watch = proc, watch
        self.started_at = self.last_progress = self.last_beat = time.monotonic()
        self.reason: str | None = None
        self.reporting = False
        self._done = threading.Event()

    def stop(self) -> None:
        self._done.set()
        self.join()

    def run(self) -> None:
        watch = self.watch
        while not self._done.wait(watch.poll_seconds):
            now = time.monotonic()
            if watch.wall_seconds and now - self.started_at > watch.wall_seconds:
                self._kill("timeout")
            elif self._stalled(now):
                self._kill("stalled")
            elif watch.should_stop and self._ask(watch.should_stop):
                self._kill("canceled")
            if watch.heartbeat and now - self.last_beat >= watch.heartbeat_seconds:
                self.last_beat = now
                if self._beat(watch.heartbeat) is False:
                    self._kill("lease_lost")
            if self.reason:
                return

    def _ask(self, check: Callable[[], object]) -> bool:
        try:
            return bool(check())
        except Exception:  # Redis blinked: never kill an encode for that
            log.warning("ffmpeg monitor check failed", exc_info=True)
            return False

    def _stalled(self, now: float) -> bool:
        """ffmpeg said nothing for the stall limit (time we spent recording progress excluded)."""
        limit = self.watch.stall_seconds
        if not limit:
            return False
        return not self.reporting and now - self.last_progress > limit

    def _beat(self, heartbeat: Callable[[], bool]) -> bool | None:
        try:
            return bool(heartbeat())
        except Exception:  # Redis blinked: the lease may well still be ours
            log.warning("ffmpeg heartbeat failed", exc_info=True)
            return None

    def _kill(self, reason: str) -> None:
        self.reason = reason
        _kill_group(self.proc)


_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def _prepare_child(niceness: int) -> None:
    _die_with_parent()
    if niceness:
        os.nice(niceness)


def _die_with_parent() -> None:
    """In the child before exec: be killed if the process that started us dies.

    A worker process killed outright (SIGKILL, out of memory) cannot kill its
    ffmpeg; the kernel does it, so no encode is left running for nobody.
    """
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _failure(returncode: int, tail: str) -> FfmpegFailed:
    if "No space left on device" in tail:
        error = FfmpegFailed(
            "The server ran out of disk space while writing this video; an operator must free some.",
            returncode=returncode,
            stderr_tail=tail,
        )
        error.code = "storage_full"
        return error
    last = next((line for line in reversed(tail.splitlines()) if line.strip()), "")
    message = (
        f"The encoder could not process this video: {last.strip()}"
        if last
        else (f"The encoder failed with exit code {returncode}.")
    )
    return FfmpegFailed(message, returncode=returncode, stderr_tail=tail)
