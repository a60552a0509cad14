"""`make bench` (sign-in flood): one web process, 300 event streams open, flooded with
sign-ins: 500 posts released at the same moment, then 60 clients posting in a loop for 30 s
(made-up names, wrong passwords, each post from an address of its own through one trusted
proxy, so the throttle waits for none and the whole load reaches the password checks).
``/healthz`` is asked ten times a second all along.

Printed for the code as it is ("after") and for the code before sign-ins were bounded and
hashed off the event loop ("before": ``TRANSCODER_BENCH_SIGN_IN_BEFORE``, a commit, extracted
with ``git archive`` and run from there): whether the gunicorn worker stayed up (same
process, no ``WORKER TIMEOUT``), how many streams the server dropped, ``/healthz`` p50, p99
and slowest answer (and how many went unanswered), and how the sign-ins were answered.
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
from collections import Counter
from pathlib import Path

import redis

from tests.bench.measure import REDIS_URL
from tests.support.floods import Probe, Stream, one_sign_in, release, sign_in_request, worker_pid
from tests.support.processes import BIN, ROOT, Processes, environment, wait_for

#: The last commit before the sign-in gate (fb953f1 is the gate's own).
BEFORE = os.environ.get("TRANSCODER_BENCH_SIGN_IN_BEFORE", "fb953f1^")
STREAMS = 300
BURST = 500
CLIENTS = 60
LOOP_S = 30.0
KEY = "bench-sign-in-flood-key"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def start(processes: Processes, env: dict[str, str], cwd: Path) -> str:
    import requests

    from tests.support.processes import free_port

    port = free_port()
    argv = [
        str(BIN / "gunicorn"),
        "-c",
        "python:web.server",
        "--bind",
        f"127.0.0.1:{port}",
        "web:create_app()",
    ]
    proc, log = processes.start("web", argv, env, cwd=cwd)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=1).ok
        except requests.RequestException:
            return False

    wait_for(up, 60, "web start", proc, log)
    return url


def loop(url: str, client: int, until: float, answers: list) -> None:
    n = 0
    while time.monotonic() < until:
        address = f"10.{100 + client // 250}.{client % 250}.{n % 250 + 1}"
        answers.append(one_sign_in(url, sign_in_request(url, f"nobody-{client}-{n}", "wrong", address), 90))
        n += 1


def one_run(label: str, cwd: Path, work: Path) -> str:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    (work / label).mkdir()
    processes = Processes(work / label)
    env = environment(REDIS_URL, work / label / "storage", auth="on", trusted_proxies="1", api_keys=KEY,
                      streams_per_client="0", stream_keepalive="15")  # fmt: skip
    try:
        url = start(processes, env, cwd)
        master = processes.by_name["web"].pid
        worker = worker_pid(master)
        streams: list[Stream] = []
        for _ in range(0, STREAMS, 25):  # 25 at a time, as browsers open them, not all in one instant
            batch = [Stream(url, {"Authorization": f"Bearer {KEY}"}).start() for _ in range(25)]
            wait_for(lambda b=batch: all(s.opened.is_set() or s.closed for s in b), 60, "streams open")
            streams += batch
        opened = sum(s.opened.is_set() for s in streams)
        # The probe in a process of its own: the flooding threads here would hold its GIL.
        answers_file = work / label / "healthz.json"
        probe = subprocess.Popen([str(BIN / "python"), "-m", "tests.bench.sign_in_flood", "probe", url,
                                  str(answers_file)], cwd=ROOT)  # fmt: skip
        try:
            wait_for(answers_file.exists, 30, "the /healthz probe")
            addresses = [f"10.50.{n // 250}.{n % 250 + 1}" for n in range(BURST)]
            wanted = [sign_in_request(url, f"nobody-{n}", "wrong", a) for n, a in enumerate(addresses)]
            burst = release(url, wanted, timeout=90)
            looped: list = []
            until = time.monotonic() + LOOP_S
            threads = [threading.Thread(target=loop, args=(url, c, until, looped)) for c in range(CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(200)
            time.sleep(1)
        finally:
            Path(f"{answers_file}.stop").touch()
            probe.wait(120)
        probed = json.loads(answers_file.read_text())
        stayed = (
            worker_pid(master) == worker and "WORKER TIMEOUT" not in (work / label / "web.log").read_text()
        )
        dropped = sum(s.opened.is_set() and s.closed for s in streams)
        took = [ms for status, ms in probed if status == 200]
        missed = sum(status != 200 for status, _ in probed)
        counts = Counter(a.status for a in burst + looped)
        answered = ", ".join(f"{status or 'none'}: {n}" for status, n in sorted(counts.items()))
        cells = [label, "yes" if stayed else "no", f"{dropped} of {opened}", f"{pct(took, 0.5):.0f} ms",
                 f"{pct(took, 0.99):.0f} ms", f"{max(took, default=float('nan')):.0f} ms",
                 f"{missed} of {len(probed)}", answered]  # fmt: skip
        return "| " + " | ".join(str(c) for c in cells) + " |"
    finally:
        processes.stop_all()
        client.flushdb()


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="transcoder-bench-sign-in-"))
    before = work / "before-code"
    before.mkdir()
    archive = subprocess.run(["git", "archive", BEFORE, "web", "transcoder", "tasks"], cwd=ROOT,
                             capture_output=True, check=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
    print(
        f"\n{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}"
    )
    print(f"\nA sign-in flood on one web process holding {STREAMS} event streams: {BURST} posts at once, "
          f"then {CLIENTS} clients in a loop for {LOOP_S:.0f} s; /healthz ten times a second\n")  # fmt: skip
    columns = ["code", "process stayed up", "streams dropped", "/healthz p50", "p99", "slowest",
               "/healthz unanswered", "sign-ins answered (status: count)"]  # fmt: skip
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    print(one_run("after", ROOT, work), flush=True)
    print(one_run(f"before ({BEFORE})", before, work), flush=True)
    return 0


def probe_until_stopped(url: str, out: str) -> int:
    """The probe's own process: /healthz ten times a second until ``out``.stop exists."""
    with Probe(url, every=0.1, timeout=60) as probe:
        Path(out).write_text("[]")
        while not Path(f"{out}.stop").exists():
            time.sleep(0.2)
    Path(out).write_text(json.dumps(probe.answers))
    return 0


if __name__ == "__main__":
    sys.exit(probe_until_stopped(*sys.argv[2:4]) if sys.argv[1:2] == ["probe"] else main())
