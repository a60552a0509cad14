"""`make run` as a new user meets it: a taken port, a start that fails, a start that works."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import redis
import requests

from tests.support.processes import ROOT, environment, free_port
from tests.support.system import REDIS_URL
from transcoder.ops import durability

DATABASE_URL = REDIS_URL.rsplit("/", 1)[0] + "/9"


def _env(tmp_path, **settings: str) -> dict[str, str]:
    return environment(DATABASE_URL, tmp_path / "storage", **settings)


def test_a_taken_port_stops_make_run_with_one_plain_line(tmp_path):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        done = subprocess.run(
            ["make", "-s", "run"], cwd=ROOT, env=_env(tmp_path, port=str(port)),
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "TRANSCODER_PORT" in done.stderr
    assert "running" not in done.stdout + done.stderr


def test_a_web_app_that_cannot_start_is_reported_not_announced(tmp_path):
    done = subprocess.run(
        ["infra/run.sh"], cwd=ROOT, env=_env(tmp_path, port=str(free_port()), storage="nowhere"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "stopped while starting" in done.stderr
    assert "TRANSCODER_STORAGE must be local or s3" in done.stderr
    assert "running" not in done.stdout


def test_run_prints_short_steps_then_the_url_and_the_way_in_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        ["infra/run.sh"], cwd=ROOT, env=_env(tmp_path, port=str(port), auth="on"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        lines = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("Transcoder is running"):
                break
        assert lines and lines[-1].startswith(f"Transcoder is running: http://127.0.0.1:{port}/"), lines
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok
        # A new catalog: the first admin, with a password shown this once, is the way in.
        way_in = proc.stdout.readline().strip()
        assert way_in.startswith("Sign in as admin with the password "), way_in
        password = way_in.removeprefix("Sign in as admin with the password ").split(" ")[0]
        browser = requests.Session()
        assert browser.get(f"http://127.0.0.1:{port}/videos", timeout=10).url.endswith("/signin?next=/videos")
        signed_in = browser.post(
            f"http://127.0.0.1:{port}/signin",
            data={"name": "admin", "password": password, "next": "/videos"},
            timeout=10,
        )
        assert signed_in.ok and signed_in.url.endswith("/videos"), signed_in.url
        assert browser.get(f"http://127.0.0.1:{port}/api/videos", timeout=10).json() == {
            "videos": [], "next_cursor": None}  # fmt: skip
        # Set-up steps, one line each; the processes' logs are in var/log, not here.
        assert len(lines) <= 4, lines
        assert "var/log/worker.log" in "\n".join(lines)
        # This machine's Redis keeps nothing on disk, or does: make run says which in one line.
        warned = durability.WARNING in lines
        assert warned == bool(durability.keeps_nothing(redis.Redis.from_url(DATABASE_URL))), lines
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # Everything it started has stopped: the port is free again.
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
