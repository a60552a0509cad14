"""The running system the integration and browser tests share: Redis, `celery worker` processes,
gunicorn, ffmpeg (the processes themselves are started by ``tests.support.processes``).

One Redis database (flushed before and after the session), one storage folder, two
worker processes and one web server, shared by the whole session. Nothing is faked.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from tests.support import lanes
from tests.support.accounts import make_users
from tests.support.processes import Processes, catalog_url, environment, start_web, start_worker, wait_for
from transcoder.records import redis_keys
from transcoder.settings import Settings

REDIS_URL = lanes.redis_url()


MAX_UPLOAD = 20 * 1024 * 1024


WORKERS = ("w1", "w2")


#: What a wheel is built from: the packaging test and the Dockerfile copy exactly these.
PACKAGE_SOURCES = ("pyproject.toml", "README.md", "transcoder", "tasks", "web")


@pytest.fixture(scope="session")
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Integration tests need Redis at {REDIS_URL} (make test starts one): {exc}")
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture(scope="session")
def storage_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("storage")


@pytest.fixture(scope="session")
def settings(storage_dir) -> Settings:
    return Settings.from_env(
        {},
        redis_url=REDIS_URL,
        storage_dir=storage_dir,
        database_url=catalog_url(storage_dir),
        max_upload_bytes=MAX_UPLOAD,
        dedupe="off",
    )


def recorded(storage_dir: Path) -> int:
    """How many videos the catalog of the system in ``storage_dir`` records."""
    import sqlite3

    path = catalog_url(storage_dir).removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT count(*) FROM videos").fetchone()[0]


@contextmanager
def side_services(redis_url: str, folder: Path, **overrides: object):
    """Clients of a system of a test's own: a flushed Redis database (flushed again after)
    and an SQLite catalog in ``folder``, its schema made."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    overrides = {"dedupe": "off", **overrides}  # as the suite's systems (support/processes.py)
    settings = Settings.from_env(
        {}, redis_url=redis_url, storage_dir=folder, database_url=catalog_url(folder), **overrides
    )
    try:
        yield prepared_services(settings)
    finally:
        client.flushdb()


def prepared_services(settings: Settings, patient: bool = False):
    """A process's clients, with the catalog's schema made, as a starting web app or worker would."""
    from transcoder.services import build_services
    from transcoder.work.recovery import prepare

    services = build_services(settings, patient=patient)
    prepare(services)
    return services


@pytest.fixture(scope="session")
def service_env(settings, storage_dir) -> dict[str, str]:
    return environment(settings.redis_url, storage_dir, max_upload_bytes=str(MAX_UPLOAD))


@pytest.fixture(scope="session")
def processes(tmp_path_factory):
    procs = Processes(tmp_path_factory.mktemp("logs"))
    yield procs
    procs.stop_all()


@pytest.fixture(scope="session")
def workers(redis_client, service_env, processes) -> list[str]:
    """Two `celery worker` processes with one slot each, like two small machines."""
    for short in WORKERS:
        start_worker(processes, service_env, short, "--without-gossip", "--without-mingle")
    return [f"{short}@{socket.gethostname()}" for short in WORKERS]


@pytest.fixture(scope="session")
def base_url(redis_client, service_env, processes) -> str:
    return start_web(processes, service_env, "web")


@pytest.fixture(scope="session")
def accounts_url(workers, service_env, processes) -> str:
    """A second web server on the same Redis, storage and workers, with accounts on; its
    users (root, an admin; alice and bob) made with the operator's commands."""
    env = {**service_env, "TRANSCODER_AUTH": "on"}
    make_users(env)
    return start_web(processes, env, "web-accounts")


@pytest.fixture(scope="session")
def system(workers, base_url) -> str:
    """The whole system running: web app and two workers. Returns the web app's URL."""
    return base_url


@dataclass
class SideSystem:
    """A web server on a Redis database of its own, for tests that start their own workers."""

    redis: redis.Redis
    processes: Processes
    env: dict[str, str]
    url: str


@contextmanager
def side_system(root: Path, database: int, **settings: str) -> Iterator[SideSystem]:
    """The session's shared workers never see this database, so they never take its messages."""
    url = REDIS_URL.rsplit("/", 1)[0] + f"/{database}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    processes = Processes(root)
    env = environment(url, root / "storage", **settings)
    try:
        yield SideSystem(client, processes, env, start_web(processes, env, f"{root.name}-web"))
    finally:
        processes.stop_all()
        client.flushdb()


def each_part_ran_once(client: redis.Redis, ids: list[str], env: dict[str, str]) -> set[str]:
    """Each part of each video ran once and each video was closed once (by the part whose end
    ended it), once the installation whose environment is ``env`` has nothing left to do;
    returns the workers that ran the parts."""

    def runs(video_id: str) -> dict[str, int]:
        return {k.decode(): int(v) for k, v in client.hgetall(redis_keys.runs_key(video_id)).items()}

    # `ready` is published by the last part; the close it enqueued runs just after.
    wait_for(lambda: all(runs(v).get("close") for v in ids), 30, "videos closed")
    # A plugin too: imported here, once pytest has loaded it (and rewritten its asserts).
    from tests.support.brokers import settle

    # Any extra close or part, were one ever sent, has run by the time the queues are empty.
    settle(env, lambda: [runs(v) for v in ids], 60, "every task of the videos ended", videos=ids)
    used = set()
    for video_id in ids:
        stored = json.loads(client.get(redis_keys.video_key(video_id)))
        assert runs(video_id) == {p["id"]: 1 for p in stored["parts"]} | {"close": 1}
        assert all(p["attempts"] == 1 for p in stored["parts"]), stored["parts"]
        used |= {p["worker"] for p in stored["parts"]}
    return used
