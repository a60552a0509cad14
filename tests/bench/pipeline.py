"""`make bench` (first part): a video's cost against one hand-typed ffmpeg, on footage like
users upload, side by side in one run.

The baseline is one ffmpeg that decodes once and ``split``s into every rendition's encoder
with the same settings (``tests/support/reference.py``; it makes no HLS and no previews, and is
never changed to meet a ratio). Against it, this project as `make run` starts it (one
worker, default concurrency): the time from the upload's answer to playable and to
ready, and the CPU of the worker and the web app (scan, pictures, previews, sound, join
and the Python around them: everything). Each ratio is the median of ``ROUNDS`` rounds,
each round running the baseline and then this project on the same clip. The outputs are
compared too: each rendition's size and SSIM against the split command's, so no ratio is
met by encoding worse. Ratios below 1 are better.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.bench.measure import (
    PHASES,
    REDIS_URL,
    Timing,
    by_hand,
    compare_outputs,
    download,
    previews_cost,
    with_phases,
)
from tests.support.clips import film_clip, make_clip
from tests.support.processes import BIN, Processes, environment, start_web, wait_for

ROUNDS = int(os.environ.get("TRANSCODER_BENCH_ROUNDS", "3"))
#: A 10-minute 720p clip as well (about 25 minutes more).
LONG = os.environ.get("TRANSCODER_BENCH_LONG", "0") != "0"
#: Where the clips are made, and kept: a clip already there is used again (they take minutes).
CLIPS = Path(os.environ.get("TRANSCODER_BENCH_CLIPS", "var/bench-clips"))


@dataclass
class Clip:
    title: str
    path: Path
    #: At most this much of the split command's wall and CPU; playable after at most this
    #: fraction of its wall (None: no target).
    wall: float
    cpu: float
    playable: float | None


def footage(work: Path) -> list[Clip]:
    """A film as x264 cuts it (keyframes at its cuts), the same as a phone writes it (a keyframe
    every second), a short clip, HEVC in 10 bits, and the synthetic pattern of earlier runs."""
    work.mkdir(parents=True, exist_ok=True)
    film, pattern = _kept(film_clip), _kept(make_clip)
    sixty = (0.90, 1.05, 0.08)
    clips = [
        Clip("film, 60 s 1080p H.264, keyframes at cuts", film(work / "film.mp4", seconds=60), *sixty),
        Clip("film as a phone writes it, 60 s 1080p, a keyframe every 1 s",
             film(work / "phone.mp4", seconds=60, keyframe_s=1), *sixty),
        Clip("short clip, 10 s 1080p H.264", film(work / "short.mp4", seconds=10), 1.00, 1.10, None),
        Clip("film, 60 s 1080p HEVC 10-bit SDR", film(work / "hevc.mp4", seconds=60, hevc_10bit=True),
             *sixty),
        Clip("test pattern, 60 s 1080p 30 fps (testsrc2)",
             pattern(work / "pattern.mp4", size="1920x1080", seconds=60, audio=True, rate=30), *sixty),
    ]  # fmt: skip
    if LONG:
        long = pattern(work / "pattern-10min.mp4", size="1280x720", seconds=600, audio=True, rate=30)
        clips.append(Clip("test pattern, 10 min 720p 30 fps", long, 0.90, 1.05, None))
    return clips


def _kept(make):  # type: ignore[no-untyped-def]
    def made(path: Path, **options):  # type: ignore[no-untyped-def]
        return path if path.exists() else make(path, **options)

    return made


def start(work: Path) -> tuple[Processes, str, int, int]:
    """A worker and a web app with `make run`'s defaults, on a scratch database and folder."""
    work.mkdir(parents=True)
    procs = Processes(work)
    env = environment(REDIS_URL, work / "storage")
    for name in (
        "PROGRESS_INTERVAL",
        "STREAM_KEEPALIVE",
        "STREAMS_PER_CLIENT",
    ):  # the suite's, not make run's
        env.pop(f"TRANSCODER_{name}")
    worker, log = procs.start("worker", [str(BIN / "celery"), "-A", "tasks", "worker", "-l", "INFO"], env)
    wait_for(lambda: b" ready." in log.read_bytes(), 60, "worker start", log=log)
    base = start_web(procs, env, "web")
    return procs, base, worker.pid, procs.by_name["web"].pid


def median(values: list[float]) -> float:
    return statistics.median(values)


def row(clip: Clip, base: list[Timing], ours: list[Timing]) -> str:
    wall = median([o.wall / b.wall for o, b in zip(ours, base, strict=True)])
    cpu = median([o.cpu / b.cpu for o, b in zip(ours, base, strict=True)])
    playable = median([o.playable / b.wall for o, b in zip(ours, base, strict=True)])
    met = wall <= clip.wall and cpu <= clip.cpu and (clip.playable is None or playable <= clip.playable)
    target = f"≤ {clip.wall:.2f} / {clip.cpu:.2f}"
    target += f", playable ≤ {clip.playable:.2f}" if clip.playable else ""
    phases = " | ".join(f"{median([o.phases[p] for o in ours]):.1f}" for p in PHASES)
    split_wall, split_cpu = median([b.wall for b in base]), median([b.cpu for b in base])
    return (f"| {clip.title} | {split_wall:.1f} s / {split_cpu:.1f} s "
            f"| {median([o.wall for o in ours]):.1f} s / {median([o.cpu for o in ours]):.1f} s "
            f"| **{wall:.2f} / {cpu:.2f}** | {target} {'(met)' if met else '(**missed**)'} "
            f"| {median([o.playable for o in ours]):.1f} s ({playable:.3f}) | {phases} |")  # fmt: skip


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="transcoder-bench-"))
    client = redis.Redis.from_url(REDIS_URL)
    clips = footage(CLIPS)
    machine = platform.processor() or platform.machine()
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {machine}; median of {ROUNDS} rounds\n")
    print("| clip | split: wall / CPU | this project: wall / CPU | ratio wall / CPU | target "
          "| playable after (× split's wall) | CPU: " + " | ".join(PHASES) + " |")  # fmt: skip
    print("| --- " * (7 + len(PHASES) - 1) + "|", flush=True)
    client.flushdb()
    procs, url, worker, web = start(work / "system")
    compared = []
    try:
        for clip in clips:
            previews = previews_cost(clip.path)
            base, ours = [], []
            for n in range(ROUNDS):
                base.append(by_hand(clip.path, work / f"split-{clip.path.stem}-{n}"))
                ours.append(with_phases(url, clip.path, worker, web, previews))
            print(row(clip, base, ours), flush=True)
            mine = download(url, ours[-1].video_id, work / f"ours-{clip.path.stem}")
            compared.append(
                (clip, compare_outputs(mine, work / f"split-{clip.path.stem}-{ROUNDS - 1}", clip.path))
            )
    finally:
        procs.stop_all()
        client.flushdb()
    print("\nThe same outputs: each rendition's size against the split command's (target within ±5 %), "
          "and SSIM against the source (target: within 0.005 of the split command's)\n")  # fmt: skip
    print("| clip | rendition | size vs split | SSIM: this project / split | difference |")
    print("| --- | --- | --- | --- | --- |")
    for clip, rows in compared:
        for name, size, mine_ssim, their_ssim in rows:
            ok = abs(size - 1) <= 0.05 and abs(mine_ssim - their_ssim) <= 0.005
            print(f"| {clip.title} | {name} | {size:.3f} | {mine_ssim:.4f} / {their_ssim:.4f} "
                  f"| {mine_ssim - their_ssim:+.4f} {'' if ok else '(**outside**)'} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
