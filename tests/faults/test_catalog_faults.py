"""Fault trials of the catalog: Redis losing everything, the database stopping, a delete
mid-encode. The system here runs on a Redis that keeps nothing on disk (as these machines'
does) and on a PostgreSQL server of its own, which the trials stop and start.

Each trial proves its fault landed (every key gone; the database refusing connections
while a part finished; the video's ffmpeg running when it was deleted) and that the
mechanism did the work (the sweeper put the video back and sent its work again; the
changes made while the database was down reached it; nothing of the video is left).
"""

from __future__ import annotations

import time

import psycopg
import pytest
import redis
import requests

from tests.support.brokers import settle
from tests.support.databases import PostgresServer
from tests.support.pace import scaled
from tests.support.processes import running_redis
from tests.support.requests_to_api import upload
from transcoder.ops import metrics
from transcoder.records import redis_keys

from .checks import api, assert_clean_ready, encoding, finished, trial
from .conftest import TRIALS, Cluster, cluster_env, measure, wait
from .observe import attempts, encoder_pids

RUNS = range(TRIALS)


@pytest.fixture(scope="module")
def fault_redis(tmp_path_factory):
    with running_redis(tmp_path_factory.mktemp("forgetful-redis"), persistent=False) as server:
        yield server


@pytest.fixture(scope="module")
def database():
    server = PostgresServer()
    server.start()
    yield server
    server.remove()


@pytest.fixture(scope="module")
def cluster(fault_redis, fault_storage, processes, database) -> Cluster:
    env = {**cluster_env(fault_redis.url, fault_storage), "TRANSCODER_DATABASE_URL": database.url}
    cluster = Cluster(processes, env)
    cluster.start_worker()
    cluster.start_worker()
    return cluster


def recorded(database: PostgresServer, video_id: str) -> tuple[str, int] | None:
    """The video's state and seq in the database, read directly."""
    url = database.url.replace("+psycopg", "")
    with psycopg.connect(url, connect_timeout=3) as db:
        row = db.execute("SELECT state, seq FROM videos WHERE id = %s", (video_id,)).fetchone()
    return None if row is None else (row[0], row[1])


def ready_parts(cluster: Cluster, video_id: str) -> int:
    parts = requests.get(f"{cluster.url}/api/videos/{video_id}/parts", timeout=10).json()["parts"]
    return sum(p["state"] == "ready" for p in parts)


@pytest.mark.parametrize("run", RUNS)
@trial("14. FLUSHALL on a Redis that keeps nothing on disk, mid-encode")
def test_flushall(run, cluster, database, fault_redis, fault_storage, clip, data_dir, tmp_path):
    client = redis.Redis.from_url(fault_redis.url)
    video_id = upload(cluster.url, clip).json()["id"]
    waiting = upload(cluster.url, clip).json()["id"]  # its parts wait in the queue
    part, _ = encoding(cluster, fault_redis.url, video_id)
    assert client.llen(redis_keys.queue_key(redis_keys.PARTS_QUEUE)) > 0, "no work was waiting in the queue"
    client.flushall()
    assert client.dbsize() <= 3, "FLUSHALL left keys"  # a worker may have written one since
    assert_clean_ready(cluster, fault_storage, video_id, tmp_path)
    assert finished(cluster, waiting)["state"] == "ready"
    # The sweeper noticed, put both videos back and sent their queued work again (the
    # queue's messages were gone); the part running at the flush went on, not started over.
    recovered = {k.decode(): int(v) for k, v in client.hgetall(metrics.figure_key("recoveries")).items()}
    assert recovered.get("videos", 0) >= 2 and recovered.get("parts", 0) >= 1, recovered
    measure("parts sent again after FLUSHALL", recovered["parts"])
    assert attempts(fault_redis.url, video_id)[part] == 1
    # The catalog is written just after the state the API shows: wait for it, bounded.
    for done in (video_id, waiting):
        wait(lambda v=done: (recorded(database, v) or ("",))[0] == "ready", 15, f"{done} recorded ready")
    # The workers consume again, and the library still lists the videos.
    after = upload(cluster.url, data_dir / "bikes.mp4").json()["id"]
    assert finished(cluster, after)["state"] == "ready"
    listed = requests.get(f"{cluster.url}/api/videos", params={"limit": 200}, timeout=10).json()
    assert {video_id, waiting, after} <= {v["id"] for v in listed["videos"]}


@pytest.mark.parametrize("run", RUNS)
@trial("15. PostgreSQL stopped mid-job and started again")
def test_database_stopped(run, cluster, database, fault_redis, fault_storage, clip, tmp_path):
    client = redis.Redis.from_url(fault_redis.url)
    video_id = upload(cluster.url, clip).json()["id"]
    encoding(cluster, fault_redis.url, video_id)
    database.stop()
    try:
        before = ready_parts(cluster, video_id)  # counted once it is down: later ones cannot reach it
        # Down until a part has finished: a change the database must still get.
        wait(
            lambda: ready_parts(cluster, video_id) > before, 60, "a part finishing while the database is down"
        )
        assert client.sismember(redis_keys.BEHIND, video_id), "the change was not noted as behind"
        assert api(cluster, video_id)["state"] == "processing"  # reads go on from Redis
    finally:
        database.start()
    video = finished(cluster, video_id)
    assert_clean_ready(cluster, fault_storage, video_id, tmp_path)
    wait(lambda: recorded(database, video_id) == ("ready", video["seq"]) or None, 15,
         "the database catching up")  # fmt: skip
    # The note is cleared by the next sweep (every second here), which may come just after
    # a later change reached the database directly: wait for it, do not look once.
    wait(
        lambda: not client.sismember(redis_keys.BEHIND, video_id),
        scaled(10),
        "the note that it was behind cleared",
    )


@pytest.mark.parametrize("run", RUNS)
@trial("16. Delete during an encode")
def test_delete_mid_encode(run, cluster, database, fault_redis, fault_storage, clip):
    video_id = upload(cluster.url, clip).json()["id"]
    encoding(cluster, fault_redis.url, video_id)
    assert encoder_pids(video_id) and recorded(database, video_id)
    asked = time.monotonic()
    assert requests.delete(f"{cluster.url}/api/videos/{video_id}", timeout=10).status_code == 204
    wait(lambda: not encoder_pids(video_id), scaled(3), "every ffmpeg of the video stopped")
    assert time.monotonic() - asked < scaled(3.5)
    wait(lambda: not (fault_storage / "videos" / video_id).exists(), 10, "the video's files removed")
    # Queued parts come and go without starting or writing anything.
    settle(
        cluster.env,
        lambda: (
            encoder_pids(video_id),
            (fault_storage / "videos" / video_id).exists(),
            recorded(database, video_id),
        ),
        120,
        "the video's queued parts delivered",
        videos=[video_id],
    )
    assert not encoder_pids(video_id) and not (fault_storage / "videos" / video_id).exists()
    assert recorded(database, video_id) is None
    assert requests.get(f"{cluster.url}/api/videos/{video_id}", timeout=10).status_code == 404
    assert not redis.Redis.from_url(fault_redis.url).exists(redis_keys.video_key(video_id))
