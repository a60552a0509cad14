"""`make bench` (first part): a video's cost against one hand-typed ffmpeg, side by side.

The baseline is one ffmpeg that decodes once and ``split``s into every rung's encoder
with the same settings (see ``measure.split_command``). Against it, this project as
`make run` starts it (one worker, default concurrency), once with each part shape: the time
from the upload's answer to playable and to ready, and the CPU of the worker and the
web app (probe, encodes, HLS, previews, join: everything). Ratios below 1 are better.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import redis

from tests.bench.measure import REDIS_URL, Timing, by_hand, through
from tests.clips import make_clip
from tests.processes import BIN, Processes, environment, start_web, wait_for

LONG = os.environ.get("TRANSCODER_BENCH_LONG", "1") != "0"


def start(work: Path, plan: str) -> tuple[Processes, str, list[int]]:
    """A worker with `make run`'s defaults and a web app, on a scratch database and folder."""
    work.mkdir(parents=True)
    procs = Processes(work)
    env = environment(REDIS_URL, work / "storage", part_shape=plan)
    worker, log = procs.start("worker", [str(BIN / "celery"), "-A", "tasks", "worker", "-l", "INFO"], env)
    wait_for(lambda: b" ready." in log.read_bytes(), 60, "worker start", log=log)
    base = start_web(procs, env, "web")
    return procs, base, [worker.pid, procs.by_name["web"].pid]


def row(name: str, t: Timing, base: Timing | None) -> str:
    playable = f"{t.playable:.1f} s" if t.playable is not None else ""
    ratio = f"{t.wall / base.wall:.2f} / {t.cpu / base.cpu:.2f}" if base else "1.00 / 1.00"
    return f"| {name} | {playable} | {t.wall:.1f} s | {t.cpu:.1f} s | {ratio} |"


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="transcoder-bench-"))
    client = redis.Redis.from_url(REDIS_URL)
    clips = [("60 s 1920x1080 30 fps, AAC", make_clip(work / "1080p-60s.mp4", size="1920x1080", seconds=60,
                                                      audio=True, rate=30))]  # fmt: skip
    if LONG:
        clips.append(("10 min 1280x720 30 fps, AAC", make_clip(work / "720p-10min.mp4", size="1280x720",
                                                              seconds=600, audio=True, rate=30)))  # fmt: skip
    print(
        f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}"
    )
    for title, clip in clips:
        print(f"\n{title}\n")
        print("| way | upload done → playable | → ready (wall) | CPU | vs one decode (wall / CPU) |")
        print("| --- | --- | --- | --- | --- |")
        base = by_hand(clip, work / f"hand-{clip.stem}")
        print(row("one ffmpeg: one decode, `split` into every rung", base, None), flush=True)
        for plan in ("chunks", "renditions"):
            client.flushdb()
            procs, url, pids = start(work / f"{clip.stem}-{plan}", plan)
            try:
                print(
                    row(f"this project, TRANSCODER_PART_SHAPE={plan}", through(url, clip, pids), base),
                    flush=True,
                )
            finally:
                procs.stop_all()
                client.flushdb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
