"""Lanes: `make test` runs the suite in two processes side by side (pytest-xdist, each
file whole in one lane). A module's Redis database (``tests.support.system.REDIS_URL`` and the
numbered databases beside it) is the module's alone only within one Redis server, so
each lane starts a redis-server of its own, with nothing on disk, as the machines' Redis.

Processes a lane starts (workers, web apps, the nested pytest of the mutants) inherit the
lane's address and start no server of their own.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import signal
import socket
import subprocess
import tempfile
import time

import redis

#: Set once a lane's server runs; inherited by what the lane starts.
LANE = "TRANSCODER_TEST_LANE"
URL = "TRANSCODER_TEST_REDIS_URL"
DEFAULT_URL = "redis://127.0.0.1:6379/15"


def redis_url() -> str:
    """The Redis the suite's modules number their databases on: the lane's own when the
    suite runs in lanes, else ``TRANSCODER_TEST_REDIS_URL`` or the machine's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and os.environ.get(LANE) != worker:
        os.environ[URL] = start_lane_redis()
        os.environ[LANE] = worker
    return os.environ.get(URL, DEFAULT_URL)


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG: a lane killed outright takes its server with it.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def start_lane_redis() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tempfile.mkdtemp(prefix="lane-redis-")
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", folder, "--logfile", os.path.join(folder, "redis.log")],
        preexec_fn=_die_with_parent,
    )  # fmt: skip
    atexit.register(proc.terminate)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"no lane redis-server started (log: {folder}/redis.log)") from None
            time.sleep(0.05)
    return f"redis://127.0.0.1:{port}/15"
