"""A part's lease on a real Redis: one holder at a time, renewed only by its holder,
taken back by its holder after Redis lost it, and lost for good once another run holds it."""

from __future__ import annotations

import time

import pytest
import redis

from tests.processes import wait_for
from tests.system import REDIS_URL
from transcoder.records.leases import Lease, held

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
