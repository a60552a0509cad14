"""`make bench` (library): library pages with 100,000 videos recorded, on SQLite and on
PostgreSQL, with Redis as the cache and without it (``TRANSCODER_CACHE_TTL=0``).

The catalog is filled directly (one row per video, a realistic snapshot of a 60 s video
in each, states mixed as a busy library's would be), then one gunicorn web process is
started on it exactly as `make run` starts it, and timed over HTTP from this process:

- newest: ``GET /api/videos`` (the first page, 50 videos), 300 times;
- paging: the first 200 pages one after another, through ``next_cursor`` (10,000 videos);
- filter: the first 5 pages of ``state=failed`` (1 in 100 videos), 60 walks;
- search: the first page of ``q=<word>`` (a word in 1 in 50 file names), 20 words, 5 times each.

With the cache, every query runs twice: "first" is a miss (the page is not cached yet),
"again" a hit. Goal: p99 < 50 ms for every row.
"""

from __future__ import annotations

import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import redis
import requests
from sqlalchemy import insert

from tests.bench.measure import REDIS_URL
from tests.support.clips import video_record
from tests.support.databases import postgres_database
from tests.support.processes import Processes, environment, start_web
from transcoder.media.probe import MediaInfo
from transcoder.records import catalog, database

VIDEOS = int(os.environ.get("TRANSCODER_BENCH_LIBRARY_VIDEOS", "100000"))
MEDIA = MediaInfo(60.0, 1280, 720, 1280, 720, 0, "1:1", 30.0, True, "h264", "aac", "yuv420p", "mov")
WORDS = [f"trip{n:02d}" for n in range(50)]


def fill(url: str) -> None:
    """VIDEOS rows: one a second, 1 in 100 failed, 1 in 200 still processing, the rest ready."""
    engine = database.make_engine(url)
    database.migrate(engine)
    template = video_record("0" * 32, MEDIA, shape="chunks")
    rng = random.Random(1)
    batch = []
    with engine.begin() as connection:
        for n in range(VIDEOS):
            state = "failed" if n % 100 == 7 else "processing" if n % 200 == 3 else "ready"
            name = f"{WORDS[rng.randrange(50)]} {n}.mp4"
            video_id = f"{n:032x}"
            snapshot = {**template, "id": video_id, "filename": name, "state": state, "seq": 5,
                        "created_at": 1.7e9 + n}  # fmt: skip
            batch.append({"id": video_id, "filename": name, "name_key": name.casefold(), "state": state,
                          "created_at": 1.7e9 + n,
                          "updated_at": 1.7e9 + n, "seq": 5, "duration": 60.0, "key_id": None,
                          "snapshot": snapshot})  # fmt: skip
            if len(batch) == 5000:
                connection.execute(insert(catalog.VideoRow), batch)
                batch = []
        if batch:
            connection.execute(insert(catalog.VideoRow), batch)
    # As a database that has been running a while would be: statistics gathered, and no
    # autovacuum of the fresh rows racing the measurement.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE videos" if url.startswith("postgresql") else "ANALYZE")
    engine.dispose()


def timed(session: requests.Session, url: str, params: dict) -> tuple[float, dict]:
    began = time.perf_counter()
    reply = session.get(f"{url}/api/videos", params=params, timeout=30)
    took = (time.perf_counter() - began) * 1000
    reply.raise_for_status()
    return took, reply.json()


def workloads(session: requests.Session, url: str) -> dict[str, list[float]]:
    """Each query kind once through: times in ms."""
    times: dict[str, list[float]] = {"newest": [], "paging": [], "filter": [], "search": []}
    for _ in range(300):
        times["newest"].append(timed(session, url, {})[0])
    cursor = None
    for _ in range(200):
        took, body = timed(session, url, {"cursor": cursor} if cursor else {})
        times["paging"].append(took)
        cursor = body["next_cursor"]
    for walk in range(60):
        cursor = None
        for _ in range(5):
            params = {"state": "failed", **({"cursor": cursor} if cursor else {})}
            if walk % 2:
                params["limit"] = 49  # half the walks ask for a shape of their own
            took, body = timed(session, url, params)
            times["filter"].append(took)
            cursor = body["next_cursor"]
    for _ in range(5):
        for word in WORDS[:20]:
            times["search"].append(timed(session, url, {"q": word})[0])
    return times


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="transcoder-bench-library-"))
    client = redis.Redis.from_url(REDIS_URL)
    print(
        f"\n{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}"
    )
    print(f"\nLibrary pages over HTTP, one web process, {VIDEOS:,} videos recorded (ms)\n")
    print("| database | cache | query | requests | p50 | p99 |")
    print("| --- | --- | --- | --- | --- | --- |")
    results = []
    for name in ("SQLite", "PostgreSQL"):
        maker = postgres_database() if name == "PostgreSQL" else _sqlite(work)
        with maker as url:
            began = time.monotonic()
            fill(url)
            filled = time.monotonic() - began
            for cache in ("off", "on"):
                client.flushdb()
                procs = Processes(work)
                env = environment(REDIS_URL, work / "storage", database_url=url,
                                  cache_ttl="0" if cache == "off" else "3600")  # fmt: skip
                try:
                    base = start_web(procs, env, f"web-{name}-{cache}")
                    session = requests.Session()
                    rounds = ["first", "again"] if cache == "on" else [""]
                    for label in rounds:
                        for kind, times in workloads(session, base).items():
                            row = [name, f"{cache} {label}".strip(), kind, len(times),
                                   f"{pct(times, 0.5):.1f}", f"{pct(times, 0.99):.1f}"]  # fmt: skip
                            results.append(row)
                            print("| " + " | ".join(str(c) for c in row) + " |", flush=True)
                finally:
                    procs.stop_all()
                    client.flushdb()
            print(f"\n({name}: {VIDEOS:,} rows written in {filled:.0f} s)\n", flush=True)
    worst = max(float(r[5]) for r in results)
    print(f"Slowest p99: {worst:.1f} ms (goal < 50 ms): {'met' if worst < 50 else 'NOT met'}")
    (Path("tests/artifacts")).mkdir(exist_ok=True)
    Path("tests/artifacts/bench-library.json").write_text(json.dumps(results))
    return 0


class _sqlite:
    def __init__(self, work: Path) -> None:
        self.url = f"sqlite:///{work / 'library.db'}"

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *_: object) -> None:
        return None


if __name__ == "__main__":
    sys.exit(main())
