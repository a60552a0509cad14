"""`make bench` (third part): the web app stays quick while its machine encodes.

`make run` puts the web app and the worker on one machine. Two 60 s 1080p films are
uploaded together and encoded while 300 event streams follow them and ``/healthz`` is
asked ten times a second: its p50 and p99 (target: p99 under 100 ms). The same two
uploads with nobody watching give the encodes' own time: watching must not slow them by
more than 5 %. The stream readers run on the same machine, at nice 19, as they stand for
browsers elsewhere. Each figure is the median of ``ROUNDS`` rounds.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis
import requests

from tests.bench.measure import REDIS_URL, tree_cpu
from tests.bench.pipeline import CLIPS, footage, start
from tests.bench.streams import pct
from tests.support.processes import BIN, ROOT
from tests.support.requests_to_api import upload
from transcoder.client import Client

STREAMS = 300
ROUNDS = int(os.environ.get("TRANSCODER_BENCH_ROUNDS", "3"))


def encode_two(url: str, clip: Path, watched: bool, work: Path, web: int) -> tuple[float, list[float], float]:
    """Upload the clip twice at once; the seconds until both are ready, /healthz's times, and
    the web app's CPU seconds meanwhile."""
    web_cpu = tree_cpu([web])
    ids: list[str] = []
    uploads = [threading.Thread(target=lambda: ids.append(upload(url, clip).json()["id"])) for _ in range(2)]
    began = time.monotonic()
    for thread in uploads:
        thread.start()
    for thread in uploads:
        thread.join()
    took: list[float] = []
    stop = threading.Event()
    clients = None
    if watched:
        out = work / f"streams-{time.monotonic_ns()}.json"
        argv = [
            str(BIN / "python"),
            "-m",
            "tests.bench.streams_client",
            url,
            str(STREAMS),
            "600",
            str(out),
            *ids,
        ]
        # The readers stand for browsers elsewhere: they take only the CPU nothing else wants.
        clients = (subprocess.Popen(["nice", "-n", "19", *argv], cwd=ROOT), out)
        threading.Thread(target=_ask_health, args=(url, stop, took), daemon=True).start()
    for _ in Client(url).follow(*ids):
        pass
    wall = time.monotonic() - began
    stop.set()
    if clients is not None:
        Path(f"{clients[1]}.stop").touch()
        clients[0].wait(60)
    return wall, took, tree_cpu([web]) - web_cpu


def _ask_health(url: str, stop: threading.Event, took: list[float]) -> None:
    session = requests.Session()
    while not stop.is_set():
        began = time.monotonic()
        assert session.get(f"{url}/healthz", timeout=10).ok
        took.append((time.monotonic() - began) * 1000)
        stop.wait(0.1)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="transcoder-bench-responsive-"))
    client = redis.Redis.from_url(REDIS_URL)
    clip = footage(CLIPS)[0].path
    client.flushdb()
    procs, url, _, web = start(work / "system")
    rows = []
    try:
        for _ in range(ROUNDS):
            alone, _, _ = encode_two(url, clip, False, work, web)
            watched, took, web_cpu = encode_two(url, clip, True, work, web)
            rows.append((alone, watched, pct(took, 0.5), pct(took, 0.99), len(took), web_cpu / watched))
    finally:
        procs.stop_all()
        client.flushdb()
    print(f"\nTwo 60 s 1080p films encoding on the web app's machine, {STREAMS} event streams "
          f"following them; median of {ROUNDS} rounds\n")  # fmt: skip
    print("| both ready, nobody watching | both ready, watched | slower by | /healthz p50 "
          "| p99 (target < 100 ms) | requests | web app's CPU while watched |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    alone, watched = statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
    p50, p99 = statistics.median(r[2] for r in rows), statistics.median(r[3] for r in rows)
    slower = (watched / alone - 1) * 100
    print(f"| {alone:.1f} s | {watched:.1f} s | {slower:+.1f} % | {p50:.0f} ms | {p99:.0f} ms "
          f"| {sum(r[4] for r in rows)} | {statistics.median(r[5] for r in rows) * 100:.0f} % |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
