"""`make bench`: time from upload to playable and to ready, against the same encodes run by hand.

Starts its own worker (default concurrency, as `make run`) and web server on a
scratch Redis database and storage folder, so the ratio compares like with like
on this machine in this run. Prints one line per clip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import requests

from tests.system import BIN, ROOT, Processes, free_port, make_clip, upload, wait_for
from transcoder import ffmpeg
from transcoder.client import Client
from transcoder.ladder import plan
from transcoder.probe import probe

REDIS_URL = os.environ.get("TRANSCODER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


def by_hand(src: Path, out_dir: Path) -> float:
    """The rung encodes (MP4 only), one after another, as an operator would type them."""
    media = probe(src)
    start = time.monotonic()
    for rendition in plan(media.width, media.height):
        subprocess.run(ffmpeg.build_args(src, out_dir / f"{rendition.name}.mp4", rendition, media),
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return time.monotonic() - start


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="transcoder-bench-"))
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSCODER_")}
    env.update(TRANSCODER_REDIS_URL=REDIS_URL, TRANSCODER_STORAGE_DIR=str(work / "storage"))
    procs = Processes(work)
    try:
        _, wlog = procs.start("worker", [str(BIN / "celery"), "-A", "tasks", "worker", "-l", "INFO"], env)
        wait_for(lambda: b" ready." in wlog.read_bytes(), 60, "worker start", log=wlog)
        port = free_port()
        procs.start("web", [str(BIN / "gunicorn"), "-k", "gthread", "--threads", "8", "-b",
                            f"127.0.0.1:{port}", "web:create_app()"], env)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _up(base), 30, "web start")

        long_clip = make_clip(work / "1080p-60s.mp4", size="1920x1080", seconds=60, audio=True, rate=30)
        clips = [ROOT / "tests/data/bigbuckbunny.mp4", long_clip]
        head = f"{'clip':<16} {'upload s':>9} {'->playable s':>13} {'->ready s':>10}"
        print(f"{head} {'by hand s':>10} {'ratio':>6}")
        for clip in clips:
            start = time.monotonic()
            created = upload(base, clip).json()
            uploaded = time.monotonic()
            playable = None
            for video in Client(base).follow(created["id"]):
                if playable is None and video["playable"]:
                    playable = time.monotonic() - uploaded
            ready = time.monotonic() - uploaded
            assert video["state"] == "ready", video
            out = work / f"hand-{clip.stem}"
            out.mkdir()
            hand_s = by_hand(clip, out)
            print(
                f"{clip.name:<16} {uploaded - start:>9.2f} {playable:>13.2f} {ready:>10.2f} {hand_s:>10.2f}"
                f" {ready / hand_s:>6.2f}"
            )
    finally:
        procs.stop_all()
        client.flushdb()
    return 0


def _up(base: str) -> bool:
    try:
        return requests.get(base + "/healthz", timeout=1).ok
    except requests.RequestException:
        return False


if __name__ == "__main__":
    sys.exit(main())
