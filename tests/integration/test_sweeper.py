"""The sweeper on a real Redis: a running part whose lease is gone is queued again and its task
sent; one whose lease is held is left alone; after too many starts the part fails; a retry
whose message was lost is sent again."""

from __future__ import annotations

import pytest

from tests.support.clips import SMALL_MEDIA, video_record
from tests.support.processes import RedisServer, catalog_url, wait_for
from tests.support.system import REDIS_URL, prepared_services, side_services
from transcoder.records import redis_keys, states, transitions
from transcoder.records.leases import Lease
from transcoder.settings import Settings
from transcoder.work.lost_work import RETRY_GRACE_S, restart_grace, sweep

URL = REDIS_URL.rsplit("/", 1)[0] + "/8"


@pytest.fixture
def services(tmp_path):
    # A short lease, so the sweeper's grace after Redis starts (2 leases and 5 s) is soon
    # over: in lanes, the test's Redis may have started moments ago.
    with side_services(URL, tmp_path, max_attempts=2, lease_seconds=0.5) as services:
        services.redis.set(redis_keys.LOADED, 0)  # a Redis that has held this system's state all along
        uptime = lambda: int(services.redis.info("server")["uptime_in_seconds"])  # noqa: E731
        wait_for(lambda: uptime() >= restart_grace(0.5), 30, "Redis up longer than the sweeper's grace")
        yield services


def running(services, video_id: str, *names: str) -> None:
    services.videos.create(video_record(video_id, SMALL_MEDIA))
    for name in names:
        services.videos.update(video_id, lambda v, n=name: transitions.start_part(v, n, "w1@host", 2.0))


def test_a_part_without_its_lease_is_queued_again_and_sent(services):
    video_id = "a" * 32
    running(services, video_id, "v00", "v01")
    Lease(services.redis, redis_keys.lease_key(video_id, "v01"), 30).acquire()  # v01's worker is alive
    sent = []
    done = sweep(services, lambda v, part: sent.append((v, part)), now=10.0)
    assert sent == [(video_id, "v00")]
    assert done == [f"{video_id} v00 requeued"]
    video = services.videos.get(video_id)
    assert states.part(video, "v00")["state"] == "queued"
    assert states.part(video, "v00")["last_error"]["code"] == "worker_lost"
    assert states.part(video, "v01")["state"] == "running"
    # A second sweep finds nothing more to do: the part waits for its task.
    assert sweep(services, lambda v, part: sent.append((v, part)), now=11.0) == []


def test_a_part_whose_worker_dies_at_every_start_fails_after_max_attempts(services):
    video_id = "b" * 32
    running(services, video_id, "v00")
    sweep(services, lambda v, part: None, now=10.0)
    services.videos.update(video_id, lambda v: transitions.start_part(v, "v00", "w2@host", 12.0))
    assert sweep(services, lambda v, part: None, now=20.0) == [f"{video_id} v00 failed"]
    entry = states.part(services.videos.get(video_id), "v00")
    assert (entry["state"], entry["attempts"], entry["error"]["code"]) == ("failed", 2, "worker_lost")
    assert "2 times" in entry["error"]["message"]


def test_a_retry_whose_message_was_lost_is_sent_again(services):
    video_id = "c" * 32
    running(services, video_id, "v00")
    services.videos.update(
        video_id,
        lambda v: transitions.requeue_part(
            v, "v00", {"code": "x", "message": "y"}, 3.0, max_attempts=3, retry_at=5.0
        ),
    )
    sent = []
    assert sweep(services, lambda v, part: sent.append(part), now=5.0 + RETRY_GRACE_S - 1) == []
    assert sweep(services, lambda v, part: sent.append(part), now=5.0 + RETRY_GRACE_S + 1)
    assert sent == ["v00"]


def test_right_after_a_redis_restart_a_missing_lease_proves_nothing(tmp_path):
    """Leases run out while Redis is down; their holders take them back once it is up again."""
    server = RedisServer(tmp_path / "redis")
    (tmp_path / "redis").mkdir()
    server.start()
    try:
        settings = Settings.from_env(
            {},
            redis_url=server.url,
            storage_dir=tmp_path / "s",
            database_url=catalog_url(tmp_path / "s"),
            lease_seconds=0.5,
        )
        services = prepared_services(settings)
        services.redis.set(redis_keys.LOADED, 0)  # restarted with its data: nothing to recover
        video_id = "d" * 32
        running(services, video_id, "v00")
        sent = []
        assert sweep(services, lambda v, part: sent.append(part)) == []
        assert states.part(services.videos.get(video_id), "v00")["state"] == "running"
        wait_for(lambda: sweep(services, lambda v, part: sent.append(part)), restart_grace(0.5) + 3,
                 "the sweeper acting once the grace is over")  # fmt: skip
        assert sent == ["v00"]
    finally:
        server.stop()
