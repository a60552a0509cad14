"""What `make bench` measures with: CPU time of process trees, the hand-typed baseline command,
and one video's run through a running system (upload complete to playable and to ready)."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.reference import split_command
from tests.requests_to_api import upload
from transcoder.client import Client

#: The Redis database every bench uses (flushed by each), apart from the test suite's.
REDIS_URL = os.environ.get("TRANSCODER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")

TICK = os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            tree.setdefault(parent, []).append(int(entry.name))
    return tree


def tree_cpu(roots: list[int]) -> float:
    """CPU seconds used by these processes and everything under them, finished children included
    (a pool process reaps its ffmpeg, so ffmpeg's time lands in the pool's own count)."""
    tree, total, todo = _children(), 0.0, list(roots)
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15]) / TICK  # utime, stime, cutime, cstime
        todo += tree.get(pid, [])
    return total


@dataclass
class Timing:
    wall: float
    cpu: float
    playable: float | None = None
    upload: float = 0.0


def by_hand(src: Path, out: Path) -> Timing:
    out.mkdir(parents=True, exist_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(split_command(src, out), check=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Timing(wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)


def through(base: str, clip: Path, pids: list[int]) -> Timing:
    """Upload ``clip``; time from the upload's answer to playable and to ready, and the CPU of
    ``pids`` (the workers and the web app) from the upload's start to ready."""
    cpu_before = tree_cpu(pids)  # the probe and the frame count during the upload count too
    started = time.monotonic()
    created = upload(base, clip)
    assert created.status_code == 201, created.text
    uploaded = time.monotonic()
    playable = None
    for video in Client(base).follow(created.json()["id"]):
        if playable is None and video["playable"]:
            playable = time.monotonic() - uploaded
    wall = time.monotonic() - uploaded
    assert video["state"] == "ready", video
    return Timing(wall, tree_cpu(pids) - cpu_before, playable, uploaded - started)
