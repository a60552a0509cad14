"""`make bench` (live streams): one web process holding 1,000, 2,000 and 5,000 open streams.

Half the streams are SSE (``/api/events?video=ID``), half WebSockets, each following one of
50 videos. The videos' progress is written by the same transitions a worker uses
(``VideoStore.update`` with ``transitions.report_progress``), each video twice a second, so the
web process sees exactly what 50 encodes would send it, without 50 encodes taking the
two cores it is measured on. Measured while the streams are open:

- publish → client: from the moment ``update`` returned to the moment a client read that
  snapshot (one clock: everything runs on this machine);
- API: ``GET /api/videos/<id>`` answered meanwhile, one request every 50 ms;
- the Redis connections the hub holds (named ``transcoder-hub``);
- the web process's memory per stream (its RSS with the streams open, less before).

The clients are gevent greenlets in processes of their own (`streams_client`), 500 to a
process, on the same two cores as the server.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis
import requests

from tests.bench.measure import REDIS_URL, tree_cpu
from tests.support.clips import video_record
from tests.support.floods import worker_pid
from tests.support.processes import BIN, Processes, catalog_url, environment, start_web
from transcoder.media.probe import MediaInfo
from transcoder.records import transitions
from transcoder.records.catalog import Catalog
from transcoder.records.database import make_engine
from transcoder.records.videos import VideoStore

COUNTS = [int(n) for n in os.environ.get("TRANSCODER_BENCH_STREAMS", "1000,2000,5000").split(",")]
VIDEOS = 50
SECONDS = 20.0
#: Streams per client process: one gevent loop reading WebSocket frames in Python keeps
#: up with about this many (at 1,000 per process the clients, not the server, lagged).
STREAMS_PER_CLIENT_PROCESS = 500
MEDIA = MediaInfo(600.0, 1280, 720, 1280, 720, 0, "1:1", 30.0, True, "h264", "aac", "yuv420p", "mov")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def drive(store: VideoStore, ids: list[str], stop: threading.Event, sent: dict[str, float]) -> None:
    """Progress on every video twice a second, as its worker would report it."""
    step = 0
    while not stop.is_set():
        began = time.monotonic()
        step += 1
        percent = min(99.0, step * 0.2)
        for n, video_id in enumerate(ids):
            video, _ = store.update(
                video_id, lambda v, p=percent: transitions.report_progress(v, "v00", p, 30.0, 10.0)
            )
            sent[f"{video_id}:{video['seq']}"] = time.time()
            # Spread over the half second, as independent encoders report.
            stop.wait(max(0.0, began + 0.5 * (n + 1) / len(ids) - time.monotonic()))


def poll_api(url: str, ids: list[str], stop: threading.Event, took: list[float]) -> None:
    session = requests.Session()
    n = 0
    while not stop.is_set():
        began = time.monotonic()
        assert session.get(f"{url}/api/videos/{ids[n % len(ids)]}", timeout=10).ok
        took.append((time.monotonic() - began) * 1000)
        n += 1
        stop.wait(0.05)


def one_run(
    url: str, web_pid: int, store: VideoStore, client: redis.Redis, ids: list[str], count: int, work: Path
) -> str:
    rss_before = rss_kib(web_pid)
    processes = max(1, count // STREAMS_PER_CLIENT_PROCESS)
    per_process = count // processes
    outputs = [work / f"clients-{count}-{n}.json" for n in range(processes)]
    clients = [
        subprocess.Popen(
            [
                str(BIN / "python"),
                "-m",
                "tests.bench.streams_client",
                url,
                str(per_process),
                str(SECONDS + 10),
                str(out),
                *ids,
            ],  # fmt: skip
            cwd=Path(__file__).resolve().parents[2],
        )
        for out in outputs
    ]
    # All connected before the clock starts.
    began = time.monotonic()
    deadline = began + 240
    while time.monotonic() < deadline:
        open_now = _open_streams(url)
        if open_now >= count:
            break
        time.sleep(0.5)
    connect_s = time.monotonic() - began
    rss_open = rss_kib(web_pid)
    hub_connections = len(
        [c for c in client.client_list() if c.get("name", "").startswith("transcoder-hub-")]
    )
    stop, sent, took = threading.Event(), {}, []
    threads = [
        threading.Thread(target=drive, args=(store, ids, stop, sent)),
        threading.Thread(target=poll_api, args=(url, ids, stop, took)),
    ]
    cpu_before = tree_cpu([web_pid])
    for t in threads:
        t.start()
    time.sleep(SECONDS)
    web_cpu = tree_cpu([web_pid]) - cpu_before
    stop.set()
    for t in threads:
        t.join()
    time.sleep(1)  # the last snapshots' way to the clients
    for out in outputs:
        Path(f"{out}.stop").touch()
    for proc in clients:
        proc.wait(120)
    received, latencies, connected, closed = 0, [], 0, 0
    for out in outputs:
        result = json.loads(out.read_text())
        connected += result["connected"]
        closed += result["closed"]
        for key, at in result["seen"]:
            if key in sent:
                latencies.append((at - sent[key]) * 1000)
                received += 1
    per_stream = (rss_open - rss_before) / max(1, count)
    cells = [count, f"{connected} in {connect_s:.0f} s", closed, received, f"{pct(latencies, 0.5):.0f} ms",
             f"{pct(latencies, 0.99):.0f} ms", f"{pct(took, 0.5):.0f} ms", f"{pct(took, 0.99):.0f} ms",
             hub_connections, f"{per_stream:.1f} KiB", f"{web_cpu / SECONDS * 100:.0f} %"]  # fmt: skip
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _open_streams(url: str) -> int:
    text = requests.get(f"{url}/metrics", timeout=10).text
    total = 0
    for line in text.splitlines():
        if line.startswith("transcoder_streams_open{"):
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="transcoder-bench-streams-"))
    client = redis.Redis.from_url(REDIS_URL)
    print(
        f"\n{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}"
    )
    print(f"\nLive streams on one web process: {VIDEOS} videos reporting progress twice a second, "
          f"half SSE and half WebSocket, {SECONDS:.0f} s each\n")  # fmt: skip
    columns = ["streams", "connected (time to connect all)", "closed by the server", "snapshots received",
               "publish → client p50", "p99", "API p50", "API p99", "hub's Redis connections",
               "memory per stream", "web process CPU"]  # fmt: skip
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    for count in COUNTS:
        client.flushdb()
        (work / f"run-{count}").mkdir()
        procs = Processes(work / f"run-{count}")
        # `make run`'s settings, but no per-client cap: every client here is 127.0.0.1.
        env = environment(REDIS_URL, work / "storage", streams_per_client="0", stream_keepalive="15")
        try:
            url = start_web(procs, env, "web")
            # The web app made the catalog's tables as it started.
            store = VideoStore(client, Catalog(make_engine(catalog_url(work / "storage"))), 3600)
            ids = []
            for n in range(VIDEOS):
                video_id = f"{n:032x}"
                store.create(video_record(video_id, MEDIA, shape="chunks"))
                store.update(video_id, lambda v: transitions.start_part(v, "v00", "bench@host"))
                ids.append(video_id)
            web_pid = worker_pid(procs.by_name["web"].pid) or procs.by_name["web"].pid
            print(one_run(url, web_pid, store, client, ids, count, work), flush=True)
        finally:
            procs.stop_all()
            client.flushdb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
