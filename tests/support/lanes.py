"""Lanes: `make test` runs the suite in processes side by side (pytest-xdist, each
file whole in one lane). A module's Redis database (``tests.support.system.REDIS_URL`` and the
numbered databases beside it) is the module's alone only within one Redis server, so
each lane starts a redis-server of its own, with nothing on disk, as the machines' Redis.

Processes a lane starts (workers, web apps, the nested pytest of the mutants) inherit the
lane's address and start no server of their own.
"""

from __future__ import annotations

import atexit
import os
import tempfile
from pathlib import Path

from tests.support.processes import RedisServer

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


def start_lane_redis() -> str:
    """The lane's redis-server (``processes.RedisServer``, nothing on disk), stopped as the
    lane ends."""
    server = RedisServer(Path(tempfile.mkdtemp(prefix="lane-redis-")), persistent=False)
    server.start()
    atexit.register(server.stop)
    return server.url_at("127.0.0.1").rsplit("/", 1)[0] + "/15"
