"""Operators are told, in one line, when their Redis keeps nothing on disk."""

from __future__ import annotations

import subprocess
import sys

import redis

from tests.support.processes import ROOT, RedisServer, catalog_url, wait_for
from transcoder.ops import durability
from transcoder.settings import Settings
from web import create_app


def create_app_for(url, storage_dir):
    return create_app(
        Settings.from_env(
            {"TRANSCODER_AUTH": "off"},
            redis_url=url,
            storage_dir=storage_dir,
            database_url=catalog_url(storage_dir),
        )
    )


def _started(folder, *options: str) -> tuple[subprocess.Popen, redis.Redis, str]:
    server = RedisServer(folder)
    proc = subprocess.Popen(["redis-server", "--port", str(server.port), "--bind", "127.0.0.1",
                             "--dir", str(folder), *options])  # fmt: skip
    client = redis.Redis(port=server.port)
    wait_for(lambda: _pings(client), 20, "redis-server start")
    return proc, client, server.url


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def _warned(url: str) -> str:
    env = {"TRANSCODER_REDIS_URL": url, "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "transcoder.ops.durability"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30, check=True)  # fmt: skip
    return done.stdout


def test_a_redis_that_keeps_nothing_is_named_in_one_line_and_in_readyz(tmp_path):
    proc, client, url = _started(tmp_path, "--save", "", "--appendonly", "no")
    try:
        assert durability.keeps_nothing(client) is True
        assert _warned(url).splitlines() == [durability.WARNING]
        ready = create_app_for(url, tmp_path / "storage").test_client().get("/readyz")
        assert ready.status_code == 200 and ready.json["warnings"] == [durability.WARNING]
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_redis_with_an_append_only_file_or_snapshots_is_not_named(tmp_path):
    for n, options in enumerate(
        (["--save", "", "--appendonly", "yes"], ["--save", "60 1", "--appendonly", "no"])
    ):
        folder = tmp_path / str(n)
        folder.mkdir()
        proc, client, url = _started(folder, *options)
        try:
            assert durability.keeps_nothing(client) is False
            assert _warned(url) == ""
            ready = create_app_for(url, folder / "storage").test_client().get("/readyz")
            assert ready.status_code == 200 and "warnings" not in ready.json
        finally:
            proc.terminate()
            proc.wait(10)
