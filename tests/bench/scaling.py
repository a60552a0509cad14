"""`make bench` (second part): wall time for 8 short videos with 1, 2 and 4 worker processes.

Each run starts its own workers (one encode each, as `transcoder autoscale` starts them)
and web server on a scratch Redis database and storage folder, uploads the 8 videos
at once and waits until all are ready. The ratio is against 1 worker in the same run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import redis
import requests

from tests.system import Processes, environment, make_clip, start_web, start_worker, upload, wait_for

REDIS_URL = os.environ.get("TRANSCODER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
VIDEOS = 8
WORKERS = (1, 2, 4)


def run(work: Path, clips: list[Path], workers: int) -> float:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    folder = work / f"{workers}-workers"
    folder.mkdir()
    procs = Processes(folder)
    env = environment(REDIS_URL, folder / "storage")
    try:
        for i in range(workers):
            start_worker(procs, env, f"bench{i}")
        base = start_web(procs, env, "web")
        start = time.monotonic()
        ids = [upload(base, clip).json()["id"] for clip in clips]

        def all_ready():
            states = [requests.get(f"{base}/api/videos/{i}", timeout=10).json()["state"] for i in ids]
            assert "failed" not in states and "canceled" not in states, states
            return all(s == "ready" for s in states)

        wait_for(all_ready, 1800, "all videos ready")
        return time.monotonic() - start
    finally:
        procs.stop_all()
        client.flushdb()


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="transcoder-bench-scale-"))
    clips = [
        make_clip(work / f"clip{i}.mp4", size="854x480", seconds=6, audio=True, rate=30)
        for i in range(VIDEOS)
    ]
    print(f"{VIDEOS} videos, 854x480 30 fps, 6 s each, with sound; {os.cpu_count()} cores")
    print(f"{'workers':>7} {'wall s':>8} {'vs 1 worker':>12}")
    baseline = None
    for n in WORKERS:
        wall = run(work, clips, n)
        baseline = baseline or wall
        print(f"{n:>7} {wall:>8.2f} {baseline / wall:>11.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
