"""`make bench` (brokers): what each broker adds to a task, on this machine.

For Redis, RabbitMQ (a vhost of its own on the machine's server) and SQS (moto's standalone
server on loopback, so the figures show our overhead and kombu's, not Amazon's latency),
one `celery worker` with two processes takes parts of a video that does not exist: each
run reads Redis, finds nothing to do and ends, so the time is the broker's and Celery's.

- round trip: one part sent, then its result awaited (Celery's result in Redis), one at a
  time, ROUND_TRIPS times: p50 and p99;
- throughput: BURST parts sent at once, until the last result is in: tasks per second.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tasks.celery import make_celery
from tasks.config import PART_TASK
from tests.bench.measure import REDIS_URL
from tests.support.brokers import broker_settings
from tests.support.processes import BIN, Processes, environment, free_port, start_worker, wait_for
from transcoder.records import redis_keys
from transcoder.settings import Settings

ROUND_TRIPS = int(os.environ.get("TRANSCODER_BENCH_ROUND_TRIPS", "300"))
BURST = int(os.environ.get("TRANSCODER_BENCH_BURST", "1000"))
BROKERS = os.environ.get("TRANSCODER_BENCH_BROKERS", "redis,rabbitmq,sqs").split(",")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def moto_server(folder: Path) -> Iterator[str]:
    """moto's standalone server in a process of its own, so the bench's client does not share it."""
    port = free_port()
    log = (folder / "moto.log").open("wb")
    proc = subprocess.Popen([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], stdout=log,
                            stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        import requests

        def up() -> bool:
            try:
                return requests.get(url, timeout=1).status_code < 500
            except requests.RequestException:
                return False

        wait_for(up, 30, "moto server start", proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def measure(broker: str, folder: Path, endpoint: str) -> dict[str, float]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    procs = Processes(folder)
    with broker_settings(broker, "bench", endpoint) if broker != "redis" else nullsettings() as on_broker:
        env = environment(REDIS_URL, folder / "storage", **on_broker)
        try:
            start_worker(procs, env, f"bench-{broker}", "--concurrency", "2", "--without-gossip",
                         "--without-mingle")  # fmt: skip
            settings = Settings.from_env(env)
            celery = make_celery(settings)
            redis_keys.use(settings.redis_prefix)
            for _ in range(10):  # connections made, queues declared
                celery.send_task(PART_TASK, args=("no-such-video", "v00")).get(timeout=60)
            trips = []
            for _ in range(ROUND_TRIPS):
                began = time.perf_counter()
                celery.send_task(PART_TASK, args=("no-such-video", "v00")).get(timeout=60)
                trips.append(time.perf_counter() - began)
            began = time.perf_counter()
            results = [celery.send_task(PART_TASK, args=("no-such-video", "v00")) for _ in range(BURST)]
            for result in results:
                result.get(timeout=300)
            burst = time.perf_counter() - began
            return {
                "p50_ms": pct(trips, 0.5) * 1000,
                "p99_ms": pct(trips, 0.99) * 1000,
                "tasks_per_s": BURST / burst,
            }
        finally:
            procs.stop_all()
            client.flushdb()


@contextmanager
def nullsettings() -> Iterator[dict[str, str]]:
    yield {}


def main() -> None:
    subprocess.run(["infra/ensure-rabbitmq.sh"], check=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-brokers-") as tmp, moto_server(Path(tmp)) as endpoint:
        for broker in BROKERS:
            folder = Path(tmp) / broker
            folder.mkdir()
            figures = measure(broker, folder, endpoint)
            rows.append((broker, figures))
            print(f"{broker}: {figures}", flush=True)
    print()
    print(f"| broker | round trip p50 | p99 | tasks/s ({BURST} at once, 2 worker processes) |")
    print("| --- | --- | --- | --- |")
    names = {"redis": "Redis", "rabbitmq": "RabbitMQ", "sqs": "SQS (moto on loopback)"}
    for broker, f in rows:
        print(f"| {names[broker]} | {f['p50_ms']:.1f} ms | {f['p99_ms']:.1f} ms | {f['tasks_per_s']:.0f} |")
    print(f"\n({ROUND_TRIPS} round trips one at a time; {os.cpu_count()} cores.)")


if __name__ == "__main__":
    main()
