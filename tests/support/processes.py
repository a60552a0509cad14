"""Starting and stopping real processes for the tests: redis-server, gunicorn, `celery worker`.

Nothing is faked: each process is the one operators run, with its log in a file, and is
waited for by a condition (its health check, its "ready" line), never a fixed sleep.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
import requests

from transcoder.records import redis_keys

ROOT = Path(__file__).resolve().parents[2]


BIN = Path(sys.executable).parent

#: The Redis prefix of every installation the suite starts, whatever database it uses, so a
#: test reads what a worker wrote (conftest makes it this process's default too). A test of
#: the prefix itself gives its processes ``redis_prefix=""``: derived, as in production.
TEST_PREFIX = "transcoder:test"
#: How an installation names its prefix when none is set, kept before conftest replaces it.
derived_prefix = redis_keys.default_prefix


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """redis-server with the operators' config (AOF everysec), on a free port, data in a temp dir."""

    def __init__(self, folder: Path, bind: str = "127.0.0.1", persistent: bool = True) -> None:
        self.folder, self.port, self.bind = folder, free_port(), bind
        #: False: nothing on disk at all, like the Redis these machines start.
        self.persistent = persistent
        self.url = self.url_at("127.0.0.1")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", str(ROOT / "infra" / "redis.conf"), "--port", str(self.port),
             "--bind", self.bind, "--protected-mode", "no", "--dir", str(self.folder), "--save", "",
             "--logfile", str(self.folder / "redis.log"),
             *([] if self.persistent else ["--appendonly", "no"])],
        )  # fmt: skip
        client = redis.Redis(port=self.port)
        wait_for(lambda: _pings(client), 20, "redis-server start")

    def url_at(self, address: str) -> str:
        return f"redis://{address}:{self.port}/0"

    def shut_down(self) -> None:
        """A clean stop (SHUTDOWN NOSAVE): no snapshot, but the append-only file is flushed first,
        so nothing written before it is lost."""
        try:
            redis.Redis(port=self.port).shutdown(nosave=True)
        except redis.ConnectionError:
            pass
        self.proc.wait(10)

    def crash(self) -> None:
        """SIGKILL: what survives is what the append-only file had on disk (fsync every second)."""
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@contextmanager
def running_redis(folder: Path, persistent: bool = True) -> Iterator[RedisServer]:
    """A redis-server of a test's own for as long as the block lasts (``persistent=False``:
    nothing on disk, like the Redis these machines start)."""
    server = RedisServer(folder, persistent=persistent)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _pings(client: redis.Redis) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


class Processes:
    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[subprocess.Popen] = []
        self.by_name: dict[str, subprocess.Popen] = {}

    def start(
        self, name: str, argv: list[str], env: dict[str, str], cwd: Path = ROOT
    ) -> tuple[subprocess.Popen, Path]:
        log = self.logs / f"{name}.log"
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append(proc)
        self.by_name[name] = proc
        return proc, log

    def stop(self, name: str) -> None:
        """Stop one process by its name: a moment to stop, then killed."""
        proc = self.by_name.get(name)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(2)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop_all(self) -> None:
        """The end of a test's system: a moment to stop, then killed. Nothing is kept after,
        so no graceful stop (gunicorn gives open streams 10 s) is waited for; tests of
        graceful stops send their own signals."""
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 2
        for proc in self.procs:
            try:
                proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_for(predicate, timeout: float, what: str, proc=None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    pytest.fail(f"{what} did not happen within {timeout} s\n{tail}")


def environment(redis_url: str, storage_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a web or worker process: ours, without the caller's TRANSCODER_ ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSCODER_")}
    env.update(
        TRANSCODER_REDIS_URL=redis_url,
        TRANSCODER_STORAGE_DIR=str(storage_dir),
        TRANSCODER_DATABASE_URL=catalog_url(storage_dir),
        TRANSCODER_SCRATCH_DIR=str(storage_dir.with_name(storage_dir.name + "-scratch")),
        TRANSCODER_PROGRESS_INTERVAL="0.1",
        TRANSCODER_STREAM_KEEPALIVE="2",
        # Every test client is 127.0.0.1: the cap is tried on a server of its own (test_live).
        TRANSCODER_STREAMS_PER_CLIENT="200",
        TRANSCODER_REDIS_PREFIX=TEST_PREFIX,
        # The suite's systems are about videos: every request acts as the local admin. The
        # door itself is tried on systems of its own, with accounts (tests/integration/test_accounts.py).
        TRANSCODER_AUTH="off",
        # Every upload is encoded, however often a test sends the same file: the reuse of
        # outputs is tried on systems of its own (tests/integration/test_dedupe.py).
        TRANSCODER_DEDUPE="off",
    )
    env.update({f"TRANSCODER_{name.upper()}": value for name, value in settings.items()})
    return env


def catalog_url(storage_dir: Path) -> str:
    """The SQLite catalog of the system whose files are in ``storage_dir`` (one per system)."""
    return f"sqlite:///{storage_dir.with_name(storage_dir.name + '-catalog.db')}"


def start_web(processes: Processes, env: dict[str, str], name: str) -> str:
    port = free_port()
    argv = [str(BIN / "gunicorn"), "-c", "python:web.server", "--bind",
            f"127.0.0.1:{port}", "web:create_app()"]  # fmt: skip
    proc, log = processes.start(name, argv, env)
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{url}/healthz", timeout=1).ok
        except requests.RequestException:
            return False

    wait_for(up, 30, f"{name} server start", proc, log)
    return url


def start_worker(
    processes: Processes, env: dict[str, str], name: str, *options: str, log_name: str = ""
) -> subprocess.Popen:
    """One `celery worker` named ``name`` with one encode at a time; returns once it is ready."""
    argv = [str(BIN / "celery"), "-A", "tasks", "worker", "--loglevel", "INFO", "--concurrency", "1",
            "--hostname", f"{name}@%h", *options]  # fmt: skip
    proc, log = processes.start(log_name or name, argv, env)
    wait_for(lambda: b" ready." in log.read_bytes(), 60, f"worker {name} start", proc, log)
    return proc
