"""Operators can split the queues between machines: a worker started for `parts` only encodes,
and closing work waits in `finalize` until a worker that takes it starts. With one worker,
a video's lowest rendition is encoded first, then its previews, then the other renditions."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.support.processes import BIN, ROOT, wait_for
from tests.support.requests_to_api import upload, wait_terminal
from tests.support.system import side_system
from transcoder.records import redis_keys


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    with side_system(tmp_path_factory.mktemp("queues"), database=12) as side:
        yield side.redis, side.processes, side.env, side.url


def test_a_parts_only_worker_leaves_closing_work_to_a_finalize_worker(split, data_dir):
    client, processes, env, url = split
    # The plain Celery command an operator would write for an encoding-only machine.
    argv = [str(BIN / "celery"), "-A", "tasks", "worker", "-Q", redis_keys.PARTS_QUEUE, "--concurrency", "1",
            "--hostname", "encoder@%h", "--loglevel", "INFO"]  # fmt: skip
    proc, log = processes.start("encoder", argv, env)
    wait_for(lambda: b" ready." in log.read_bytes(), 60, "parts worker start", proc, log)

    video_id = upload(url, data_dir / "bigbuckbunny.mp4").json()["id"]
    video = wait_terminal(url, video_id)
    assert video["state"] == "ready"
    record = json.loads(client.get(redis_keys.video_key(video_id)))
    order = [p["id"] for p in sorted(record["parts"], key=lambda p: p["started_at"])]
    assert order == [p["id"] for p in record["parts"]]  # the planner's order: playable soonest
    assert order[:2] == ["a64", "v00"] and order[-1] == "join"
    # The closing task waits, untouched, in its own queue.
    finalize = redis_keys.queue_key(redis_keys.FINALIZE_QUEUE)
    wait_for(lambda: client.llen(finalize) == 1, 10, "closing message queued")
    assert client.llen(redis_keys.queue_key(redis_keys.PARTS_QUEUE)) == 0
    assert b"Task tasks.transcode.close[" not in log.read_bytes()

    # `make worker QUEUES=finalize` takes it.
    make = subprocess.Popen(
        ["make", "--no-print-directory", "worker", "QUEUES=finalize"],
        cwd=ROOT,
        env=env,
        stdout=(log := processes.logs / "finalizer.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    processes.procs.append(make)
    wait_for(lambda: client.llen(finalize) == 0, 120, "closing message taken", make, log)
    ran = re.compile(rb"Task tasks\.transcode\.close\[[0-9a-f-]+\] succeeded")
    wait_for(lambda: ran.search(log.read_bytes()), 30, "close task run", make, log)
    assert b"parts" not in log.read_bytes().split(b"[queues]")[-1].split(b"[tasks]")[0]
