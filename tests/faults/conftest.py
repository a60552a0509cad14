"""A system of our own for fault trials: redis-server with AOF on its own port, workers, web.

Trials kill and restart these processes, so they share nothing with the other tests.
Each trial runs TRANSCODER_FAULT_TRIALS times (once under `make test`, 20 under
`make faults`); the counts are printed at the end and written to tests/artifacts/faults.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest

from tests.support.brokers import broker_settings
from tests.support.clips import make_clip
from tests.support.pace import pace, scaled
from tests.support.processes import ROOT, Processes, environment, running_redis, start_web, start_worker

TRIALS = int(os.environ.get("TRANSCODER_FAULT_TRIALS", "1"))
#: The brokers each trial of ``test_faults`` runs on: Redis alone under `make test`, all
#: three under `make faults` (``test_broker_faults`` tries RabbitMQ and SQS in `make test`).
FAULT_BROKERS = os.environ.get("TRANSCODER_FAULT_BROKERS", "redis").split(",")
BROKER_NAMES = {"redis": "Redis", "rabbitmq": "RabbitMQ", "sqs": "SQS"}
#: `make faults` sets this, so its run's table replaces the one in docs/reliability.md.
WRITE_DOCS = os.environ.get("TRANSCODER_FAULTS_WRITE_DOCS") == "1"
DOCS = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- faults-table -->", "<!-- /faults-table -->"
RESULTS: dict[str, list[bool]] = {}
STARTED = time.monotonic()


class Cluster:
    """Web app and workers against the trial Redis; workers can be killed and replaced."""

    def __init__(self, processes: Processes, env: dict[str, str]) -> None:
        self.processes, self.env = processes, env
        self.workers: dict[str, subprocess.Popen] = {}
        self.count = 0
        self.idle = ""
        #: The broker its messages travel on, as the trials' table names it.
        self.broker = "Redis"
        self.web = f"fault-web-{id(self)}"
        self.url = start_web(processes, env, self.web)

    def start_worker(self, *options: str) -> str:
        self.count += 1
        name = f"f{self.count}"
        self.workers[name] = start_worker(
            self.processes, self.env, name, "--without-gossip", "--without-mingle", *options,
            log_name=f"fault-{name}",
        )  # fmt: skip
        return name

    def idle_worker(self) -> str:
        """A worker that takes only the short `finalize` queue, so it is free the moment a
        duplicate is sent to it (started once, on first use)."""
        if not self.idle:
            self.idle = self.start_worker("--queues", "finalize")
        return self.idle

    def kill_worker(self, name: str) -> None:
        proc = self.workers.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


#: Lease and stall limits (``limit_s``) short enough that each trial takes seconds: 3 s on an idle machine
#: of ours, longer in proportion on a slower or busier one (``tests.support.pace``), so ffmpeg's own
#: start on a loaded machine is never taken for a stall or a dead worker.
def limit_s() -> float:
    return scaled(3.0)


def cluster_env(redis_url: str, storage: Path) -> dict[str, str]:
    """Short leases, sweeps and stall limits, so each trial takes seconds."""
    limit = str(limit_s())
    return environment(redis_url, storage, lease_seconds=limit, sweep_seconds="1", stall_seconds=limit)


@pytest.fixture(scope="module")
def fault_redis(tmp_path_factory):
    with running_redis(tmp_path_factory.mktemp("fault-redis")) as server:
        yield server


@pytest.fixture(scope="module")
def fault_storage(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fault-storage")


@pytest.fixture(scope="module", params=FAULT_BROKERS)
def cluster(request, fault_redis, fault_storage, processes) -> Iterator[Cluster]:
    """Web app and two workers, whose messages travel on each broker of FAULT_BROKERS in turn."""
    with broker_cluster(request, request.param, fault_redis, fault_storage, processes) as cluster:
        yield cluster


@contextmanager
def broker_cluster(request, broker: str, fault_redis, fault_storage, processes) -> Iterator[Cluster]:
    """A cluster on ``broker`` (redis: the trial Redis; rabbitmq and sqs: a vhost or queues of
    its own, dropped afterwards); its workers stop with it."""
    env = cluster_env(fault_redis.url, fault_storage)
    if broker == "redis":
        settings = nullcontext({})
    else:
        settings = broker_settings(broker, "faults", request.getfixturevalue("sqs_endpoint"))
    with settings as on_broker:
        cluster = Cluster(processes, {**env, **{f"TRANSCODER_{k.upper()}": v for k, v in on_broker.items()}})
        cluster.broker = BROKER_NAMES[broker]
        cluster.start_worker()
        cluster.start_worker()
        try:
            yield cluster
        finally:
            for name in list(cluster.workers):
                cluster.kill_worker(name)
            processes.stop(cluster.web)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """Long enough at 720p that each part encodes for a few seconds: time to hurt it."""
    folder = tmp_path_factory.mktemp("fault-clip")
    return make_clip(folder / "clip.mp4", size="1280x720", seconds=12, audio=True, crf=30)


MEASURES: dict[str, list[float]] = {}


def record(name: str, ok: bool) -> None:
    RESULTS.setdefault(name, []).append(ok)


def measure(name: str, value: float) -> None:
    """A figure a trial measured (pauses between attempts, re-encodes a crash cost...)."""
    MEASURES.setdefault(name, []).append(round(value, 2))


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if not RESULTS:
        return
    lines = ["| trial | passed |", "| --- | --- |"]
    ordered = sorted(RESULTS.items(), key=lambda item: int(item[0].split(".")[0]))
    lines += [f"| {name} | {sum(runs)}/{len(runs)} |" for name, runs in ordered]
    if MEASURES:
        lines += ["", "| measured | min | max | all runs |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {name} | {min(values):g} | {max(values):g} | {', '.join(f'{v:g}' for v in values)} |"
            for name, values in MEASURES.items()
        ]
    table = "\n".join(lines) + "\n"
    table += f"\nThis machine's pace: {pace():.2f} (lease and stall limits {limit_s():g} s).\n"
    terminalreporter.write_sep("=", "fault trials")
    terminalreporter.write(table)
    out = ROOT / "tests" / "artifacts"
    out.mkdir(exist_ok=True)
    (out / "faults.md").write_text(table)
    if WRITE_DOCS:
        runs = sum(len(r) for r in RESULTS.values())
        minutes = (time.monotonic() - STARTED) / 60
        note = f"(`make faults` on {time.strftime('%Y-%m-%d')}: {runs} trial runs in {minutes:.1f} min.)\n"
        doc = DOCS.read_text()
        start, end = doc.index(BEGIN) + len(BEGIN) + 1, doc.index(END)
        DOCS.write_text(doc[:start] + table + note + doc[end:])


def wait(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")
