"""What every trial checks: that its fault lands mid-work on the part it targets, and how the
video ends. Failing loudly when a fault would land nowhere is the point: a trial that hurts
nothing proves nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.support.pace import scaled

from .conftest import Cluster, record, wait
from .observe import alive, attempts, cmdlines, encoder_pids, parent_of, part_encoder, stored

#: A worker's ffmpeg must be gone this soon after the worker process dies.
#: How soon a killed worker's ffmpeg must be gone: 2 s on an idle machine of ours.
ORPHAN_S = 2.0


def api(cluster: Cluster, video_id: str) -> dict:
    return requests.get(f"{cluster.url}/api/videos/{video_id}", timeout=10).json()


def encoding(cluster: Cluster, redis_url: str, video_id: str, below: float = 60) -> tuple[str, int]:
    """Wait until a part of the video's pictures is encoding, part way through (progress
    reported, under ``below`` %), with its ffmpeg found; return the part and that ffmpeg's pid."""

    def find():
        video = stored(redis_url, video_id)
        for part in video["parts"]:
            if part["kind"] == "video" and part["state"] == "running" and 0 < part["progress"] < below:
                pids = part_encoder(video_id, part["id"])
                if len(pids) == 1:
                    return part["id"], pids[0]
        return None

    return wait(find, 60, "a part encoding, part way through")


def worker_main_of(cluster: Cluster, pool_pid: int) -> str:
    """The name of the worker whose pool process this is; fails loudly if it is none of ours."""
    parent = parent_of(pool_pid)
    names = [name for name, proc in cluster.workers.items() if proc.pid == parent]
    assert names, f"process {pool_pid} is not a pool process of any trial worker"
    assert "celery" in cmdlines().get(pool_pid, ""), f"process {pool_pid} is not a celery process"
    return names[0]


def finished(cluster: Cluster, video_id: str, timeout: float = 120) -> dict:
    def ended():
        video = api(cluster, video_id)
        return video if video["state"] in ("ready", "failed", "canceled") else None

    try:
        return wait(ended, timeout, f"video {video_id} ending")
    except AssertionError as exc:
        parts = requests.get(f"{cluster.url}/api/videos/{video_id}/parts", timeout=10).json()["parts"]
        states = ", ".join(f"{p['id']}: {p['state']} ({p['attempts']} attempts)" for p in parts)
        raise AssertionError(f"{exc}; its parts: {states}") from None


def assert_clean_ready(cluster: Cluster, storage: Path, video_id: str, tmp_path: Path) -> None:
    video = finished(cluster, video_id)
    assert video["state"] == "ready", video["error"]
    folder = storage / "videos" / video_id
    assert not [p for p in folder.rglob("*") if p.name.endswith(".part")], "a partial file was left"
    for rendition in video["renditions"]:
        out = tmp_path / f"{rendition['name']}.mp4"
        out.write_bytes(requests.get(cluster.url + rendition["url"], timeout=30).content)
        duration = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                                         "csv=p=0", str(out)], capture_output=True, text=True,
                                        check=True).stdout)  # fmt: skip
        assert abs(duration - video["source"]["duration"]) <= 0.02 * video["source"]["duration"] + 0.1
    wait(lambda: not encoder_pids(video_id), 10, "no ffmpeg left for the video")


def assert_ran_again_once(redis_url: str, video_id: str, part: str) -> None:
    """The hurt part ran exactly once more, alone: no other part was started twice."""
    counts = attempts(redis_url, video_id)
    assert counts[part] == 2, f"{part} was started {counts[part]} times, not 2: {counts}"
    assert all(n == 1 for name, n in counts.items() if name != part), counts


def trial(name: str):
    """Record the outcome of one run of a trial, pass or fail."""

    def wrap(test):
        def run(*args, **kwargs):
            # A trial on another broker than Redis is a row of its own.
            broker = getattr(kwargs.get("cluster"), "broker", "Redis")
            row = name if broker == "Redis" else f"{name}, on {broker}"
            try:
                test(*args, **kwargs)
            except BaseException:
                record(row, False)
                raise
            record(row, True)

        run.__name__ = test.__name__
        run.__wrapped__ = test
        run.trial_name = name
        return run

    return wrap


@contextmanager
def slowed(pid: int, running_s: float = 0.1, paused_s: float = 0.4) -> Iterator[None]:
    """Hold a process to a fifth of its pace while the block runs, by stopping and continuing
    it in turn, then let it go. A part's ffmpeg so held stays at work for longer than any
    delivery the block waits for, however fast the machine encodes, and still reports
    progress often enough never to be taken for a stall."""
    done = threading.Event()

    def hold() -> None:
        while not done.is_set():
            try:
                os.kill(pid, signal.SIGSTOP)
                done.wait(paused_s)
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                return
            done.wait(running_s)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        yield
    finally:
        done.set()
        holder.join()
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass


def kill_and_time_orphan(victim: int, ffmpeg_pid: int) -> float:
    """SIGKILL ``victim`` (or its group, if negative); seconds until the part's ffmpeg was gone."""
    if victim < 0:
        os.killpg(-victim, signal.SIGKILL)
    else:
        os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    wait(lambda: not alive(ffmpeg_pid), scaled(ORPHAN_S), "the dead worker's ffmpeg gone (PR_SET_PDEATHSIG)")
    return time.monotonic() - killed_at
