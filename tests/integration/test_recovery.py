"""After Redis loses everything (FLUSHALL, a restart with nothing on disk, a failover to an
empty replica): one sweep puts every unfinished video back from the database and sends its
queued work again; finished parts and finished videos are kept; records an earlier version
kept only in Redis are imported on start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.brokers import messages_held
from tests.support.clips import SMALL_MEDIA, video_record
from tests.support.processes import Processes, environment, start_web, wait_for
from tests.support.requests_to_api import upload
from tests.support.system import REDIS_URL, side_services
from transcoder.records import redis_keys, states, transitions
from transcoder.work import recovery
from transcoder.work.lost_work import restart_grace, sweep

URL = REDIS_URL.rsplit("/", 1)[0] + "/8"


@pytest.fixture
def services(tmp_path):
    # A short lease: the sweeper's grace after Redis starts (2 leases and 5 s) is waited
    # out below, and the lane's Redis may have started moments ago.
    with side_services(URL, tmp_path, lease_seconds=1.0) as services:
        yield services


def test_one_sweep_after_a_flush_puts_unfinished_videos_back_and_sends_their_work(services):
    store = services.videos
    half, running, ended = "a" * 32, "b" * 32, "c" * 32
    store.create(video_record(half, SMALL_MEDIA))
    store.update(half, lambda v: transitions.start_part(v, "v00", "w1", 2.0))
    store.update(half, lambda v: transitions.finish_part(v, "v00", 3.0, {}))
    store.create(video_record(running, SMALL_MEDIA))
    store.update(running, lambda v: transitions.start_part(v, "v00", "w1", 4.0))  # its worker is alive
    store.create(video_record(ended, SMALL_MEDIA))
    store.update(ended, lambda v: transitions.cancel(v, 2.0))

    services.redis.flushdb()  # as FLUSHALL does, on this test's database only
    sent: list[tuple[str, str]] = []
    lines = sweep(services, lambda v, p: sent.append((v, p)), now=100.0)
    assert sorted(sent) == [(half, "v01"), (running, "v01")] and len(lines) == 2
    assert states.part(store.get(half), "v00")["state"] == "ready"  # finished work is kept
    assert store.active() == [half, running]
    assert store.get(ended)["state"] == "canceled"  # ended videos are still there
    assert {v["id"] for v in store.page()[0]} == {half, running, ended}

    # The next sweep sends nothing again, and the running part is given time to take its lease back.
    assert sweep(services, lambda v, p: sent.append((v, p)), now=101.0) == []
    assert states.part(store.get(running), "v00")["state"] == "running"
    grace = restart_grace(services.settings.lease_seconds)
    uptime = lambda: int(services.redis.info("server")["uptime_in_seconds"])  # noqa: E731
    wait_for(lambda: uptime() >= grace, 30, "Redis up longer than the sweeper's grace")
    late = 100.0 + grace + 1
    assert sweep(services, lambda v, p: sent.append((v, p)), now=late) == [f"{running} v00 requeued"]


def test_records_an_earlier_version_kept_in_redis_are_imported_on_start(services):
    old = {**video_record("c" * 32, SMALL_MEDIA), "seq": 7}
    services.redis.set(redis_keys.video_key(old["id"]), json.dumps(old), ex=3600)
    services.redis.zadd(recovery.LEGACY_INDEX, {old["id"]: 1.0})
    assert recovery.prepare(services) == 1
    assert services.catalog.get(old["id"])["seq"] == 7
    assert services.redis.ttl(redis_keys.video_key(old["id"])) == -1  # unfinished: the live copy, kept
    assert not services.redis.exists(recovery.LEGACY_INDEX)
    assert recovery.prepare(services) == 0


def test_a_web_process_marks_a_new_redis_before_its_first_upload(services, tmp_path, data_dir):
    """A new Redis (here: one that lost everything while no video was unfinished) is
    marked loaded by the web process as it starts; left to the workers' first sweep, an
    upload that came before it would be taken for a lost video and its parts sent twice.
    With an unfinished video in the catalog, the start leaves the recovery to the sweep."""
    ended = "e" * 32
    services.videos.create(video_record(ended, SMALL_MEDIA))
    services.videos.update(ended, lambda v: transitions.cancel(v, 2.0))
    services.redis.flushdb()
    env = environment(URL, Path(services.settings.storage_dir))
    processes = Processes(tmp_path)
    try:
        url = start_web(processes, env, "new-redis-web")
        assert services.redis.get(redis_keys.LOADED) == b"0"  # no worker, no sweep: the web did
        video_id = upload(url, data_dir / "bikes.mp4").json()["id"]
        sent: list[tuple[str, str]] = []
        sweep(services, lambda v, p: sent.append((v, p)), now=100.0)
        assert sent == [] and services.videos.active() == [video_id]

        # Lost everything again, this time with that video unfinished: a start sends nothing.
        processes.stop_all()
        services.redis.flushdb()
        start_web(processes, env, "recovering-web")
        assert not services.redis.exists(redis_keys.LOADED) and not any(messages_held(env).values())
        sweep(services, lambda v, p: sent.append((v, p)), now=200.0)
        assert {v for v, _ in sent} == {video_id}  # the sweep put it back and sent its work
    finally:
        processes.stop_all()
