"""`make bench` (second part): one 60 s 1080p video on 1, 2 and 4 worker processes.

Each ffmpeg is held to one thread (TRANSCODER_FFMPEG_THREADS=1) and each worker runs one
part at a time, so the figures show how one video's parts spread over workers rather
than how well ffmpeg threads. Each run starts its own workers and web app on a scratch
Redis database and storage folder; the ratio is against 1 worker in the same run.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import redis

from tests.bench.measure import REDIS_URL, through
from tests.clips import make_clip
from tests.processes import Processes, environment, start_web, start_worker
from transcoder.records import redis_keys

WORKERS = (1, 2, 4)


def run(work: Path, clip: Path, workers: int) -> tuple[float, dict[str, int]]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    folder = work / f"{workers}-workers"
    folder.mkdir()
    procs = Processes(folder)
    env = environment(REDIS_URL, folder / "storage", ffmpeg_threads="1")
    try:
        pids = [start_worker(procs, env, f"bench{i}").pid for i in range(workers)]
        base = start_web(procs, env, "web")
        timing = through(base, clip, pids)
        record = json.loads(client.get(next(iter(client.scan_iter(redis_keys.video_key("*"))))))
        spread: dict[str, int] = {}
        for part in record["parts"]:
            if part["kind"] == "video":
                name = part["worker"].split("@")[0]
                spread[name] = spread.get(name, 0) + 1
        return timing.wall, spread
    finally:
        procs.stop_all()
        client.flushdb()


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="transcoder-bench-scale-"))
    clip = make_clip(work / "1080p-60s.mp4", size="1920x1080", seconds=60, audio=True, rate=30)
    print(f"\nOne video, 60 s 1920x1080 30 fps with sound; ffmpeg on one thread; {os.cpu_count()} cores\n")
    print("| workers | upload done → ready | vs 1 worker | parts of the pictures per worker |")
    print("| --- | --- | --- | --- |")
    baseline = None
    for n in WORKERS:
        wall, spread = run(work, clip, n)
        baseline = baseline or wall
        shares = ", ".join(str(spread[k]) for k in sorted(spread))
        print(f"| {n} | {wall:.1f} s | {wall / baseline:.2f}x | {shares} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
