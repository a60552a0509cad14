"""`make bench` (second part): one 60 s 1080p film on 1, 2 and 4 worker processes.

Each ffmpeg is held to one thread (TRANSCODER_FFMPEG_THREADS=1) and each worker runs one
part at a time, so the figures show how one video's parts spread over workers rather
than how well ffmpeg threads. Each run starts its own workers and web app on a scratch
Redis database and storage folder; the ratio is against 1 worker in the same run (target
for 2 workers: 0.60 at most). "Alone" is how long one part ran while no other did, after the
first worker fell idle: the tail of last chunk, sound and join that more workers cannot share.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import redis

from tests.bench.measure import REDIS_URL, through
from tests.support.clips import film_clip
from tests.support.processes import Processes, environment, start_web, start_worker
from transcoder.records import redis_keys

WORKERS = (1, 2, 4)


def alone(parts: list[dict]) -> float:
    """Seconds, after the first part ended, during which exactly one part was running."""
    spans = [(p["started_at"], p["finished_at"]) for p in parts if p["started_at"] and p["finished_at"]]
    first_end = min(end for _, end in spans)
    edges = sorted({t for span in spans for t in span if t >= first_end})
    total = 0.0
    for a, b in zip(edges, edges[1:], strict=False):
        if sum(1 for s, e in spans if s <= a and e >= b) == 1:
            total += b - a
    return total


def run(work: Path, clip: Path, workers: int) -> tuple[float, dict[str, int], float]:
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
        return timing.wall, spread, alone(record["parts"])
    finally:
        procs.stop_all()
        client.flushdb()


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="transcoder-bench-scale-"))
    clip = film_clip(work / "film.mp4", seconds=60)
    print(f"\nOne video, a 60 s 1080p film with sound; ffmpeg on one thread; {os.cpu_count()} cores\n")
    print(
        "| workers | upload done → ready | vs 1 worker | one part alone | parts of the pictures per worker |"
    )
    print("| --- | --- | --- | --- | --- |")
    baseline = None
    for n in WORKERS:
        wall, spread, lone = run(work, clip, n)
        baseline = baseline or wall
        shares = ", ".join(str(spread[k]) for k in sorted(spread))
        print(f"| {n} | {wall:.1f} s | {wall / baseline:.2f}x | {lone:.1f} s | {shares} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
