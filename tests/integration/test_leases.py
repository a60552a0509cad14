"""A part's lease on a real Redis: one holder at a time, renewed only by its holder,
taken back by its holder after Redis lost it, and lost for good once another run holds it;
and a part that encodes for longer than its lease, renewing it all along."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from tests.support.processes import wait_for
from tests.support.system import REDIS_URL, side_services
from transcoder.records import redis_keys, states
from transcoder.records.leases import Lease, held
from transcoder.work import actions
from transcoder.work.lost_work import restart_grace, sweep

URL = REDIS_URL.rsplit("/", 1)[0] + "/8"
KEY = "test:lease"


@pytest.fixture
def client():
    client = redis.Redis.from_url(URL)
    client.delete(KEY)
    yield client
    client.delete(KEY)


def test_only_one_of_two_runs_gets_the_lease(client):
    first, second = Lease(client, KEY, 5), Lease(client, KEY, 5)
    assert first.acquire()
    assert not second.acquire()
    assert held(client, KEY)
    first.release()
    assert not held(client, KEY)
    assert second.acquire()


def test_only_the_holder_renews_or_releases(client):
    holder, other = Lease(client, KEY, 0.5), Lease(client, KEY, 0.5)
    assert holder.acquire()
    assert not other.renew()
    other.release()
    assert held(client, KEY)
    for _ in range(4):  # renewed past its first life
        time.sleep(0.2)  # the holder's pace: lifetimes must pass for a renewal to mean anything
        assert holder.renew()
    assert held(client, KEY)


def test_an_unrenewed_lease_expires(client):
    lease = Lease(client, KEY, 0.3)
    assert lease.acquire()
    assert held(client, KEY)
    wait_for(lambda: not held(client, KEY), 5, "the unrenewed lease expiring")
    assert Lease(client, KEY, 1).acquire()


def test_the_holder_takes_back_a_lease_that_redis_lost_but_not_one_another_run_took(client):
    holder = Lease(client, KEY, 5)
    assert holder.acquire()
    client.delete(KEY)  # what a crash that lost the last second of writes does
    assert holder.renew(), "nobody else took it: the holder goes on"
    assert client.get(KEY).decode() == holder.token
    client.delete(KEY)
    other = Lease(client, KEY, 5)
    assert other.acquire()
    assert not holder.renew(), "another run holds it now: the holder must stop"
    assert client.get(KEY).decode() == other.token


#: Short, so a short clip's encode outlasts it (ffmpeg's heartbeat renews it every third of
#: it; its watch looks every 0.25 s).
SHORT_LEASE_S = 0.75
#: How often the test's sweeper passes, as a worker's does every TRANSCODER_SWEEP_SECONDS.
SWEEP_S = 0.2


def test_a_part_that_encodes_longer_than_its_lease_is_never_taken_for_dead(tmp_path, data_dir):
    """The real run of a part (ffmpeg and its watch, in this process) renews its lease while
    it encodes, so a sweeper passing all the while, as a worker's does, finds the lease held
    and sends nothing again."""
    with side_services(URL, tmp_path, lease_seconds=SHORT_LEASE_S, ffmpeg_threads=1) as services:
        services.redis.set(redis_keys.LOADED, 0)  # a Redis that has held this system's state all along
        # Right after Redis starts, the sweeper waits for leases to be renewed: not here.
        uptime = lambda: int(services.redis.info("server")["uptime_in_seconds"])  # noqa: E731
        wait_for(lambda: uptime() >= restart_grace(SHORT_LEASE_S), 10, "Redis up past the sweeper's grace")
        with open(data_dir / "bigbuckbunny.mp4", "rb") as fh:  # one part: 5 s of 720p into four renditions
            video = actions.accept_upload(services, fh, "film.mp4", services.users.builtin("local", "admin"))
        (part,) = [p["id"] for p in video["parts"] if p["kind"] == "video"]
        sent, stop = [], threading.Event()

        def sweeper() -> None:
            while not stop.wait(SWEEP_S):
                sweep(services, lambda video_id, name: sent.append(name))

        thread = threading.Thread(target=sweeper, daemon=True)
        thread.start()
        began = time.monotonic()
        try:
            actions.run_part(services, video["id"], part, "w1@test")
        finally:
            took = time.monotonic() - began
            stop.set()
            thread.join()
        # Long enough that a lease nobody renewed would have lapsed, and a sweep passed after.
        assert took > SHORT_LEASE_S + 2 * SWEEP_S, (
            f"the encode took {took:.2f} s: too short to outlast its lease"
        )
        entry = states.part(services.videos.get(video["id"]), part)
        assert (entry["state"], entry["attempts"], sent) == ("ready", 1, [])
