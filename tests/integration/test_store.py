"""Video documents in a real Redis over a real database (SQLite and PostgreSQL): every change
is one new snapshot with a higher sequence number, stored and published together; changes
of state reach the database, progress does not; reads survive a Redis that lost
everything, and no read that starts after a write has returned sees the state before it."""

from __future__ import annotations

import json
import random
import threading
import time

import pytest
import redis

from tests.support.clips import SMALL_MEDIA, video_record
from tests.support.databases import database_url  # noqa: F401  (the fixture)
from tests.support.system import REDIS_URL
from transcoder.errors import VideoNotFound
from transcoder.records import catalog, database, redis_keys, states, transitions
from transcoder.records.videos import VideoStore

URL = REDIS_URL.rsplit("/", 1)[0] + "/8"
#: Nothing listens here: a database that is down.
DOWN = "postgresql+psycopg://postgres@127.0.0.1:1/none"


@pytest.fixture
def video_store(database_url):  # noqa: F811
    client = redis.Redis.from_url(URL)
    client.flushdb()
    engine = database.make_engine(database_url)
    database.migrate(engine)
    yield VideoStore(client, catalog.Catalog(engine), 3600)
    client.flushdb()
    engine.dispose()


def new_id() -> str:
    return f"{random.getrandbits(128):032x}"


def test_each_change_raises_seq_and_publishes_the_stored_snapshot(video_store):
    video = video_store.create(video_record("v" * 32, SMALL_MEDIA))
    events = video_store.redis.pubsub()
    events.subscribe(redis_keys.events_channel(video["id"]))
    events.get_message(timeout=1)  # the subscription's confirmation
    seqs = [video["seq"]]
    for change in (
        lambda v: transitions.start_part(v, "v00", "w1", 2.0),
        lambda v: transitions.report_progress(v, "v00", 50.0, 30.0, 1.0),
        lambda v: transitions.report_progress(v, "v00", 60.0, 30.0, 0.8),
    ):
        stored, changed = video_store.update(video["id"], change)
        assert changed
        seqs.append(stored["seq"])
        published = json.loads(events.get_message(timeout=1)["data"])
        assert published == stored == video_store.get(video["id"])
    assert seqs == [1, 2, 3, 4]
    # A transition that changes nothing (a finished part started again) is not a new snapshot.
    _, changed = video_store.update(
        video["id"], lambda v: transitions.report_progress(v, "v01", 10.0, None, None)
    )
    assert not changed and video_store.get(video["id"])["seq"] == 4
    assert events.get_message(timeout=0.3) is None
    events.close()


def test_states_reach_the_database_and_progress_does_not(video_store):
    video_id = video_store.create(video_record(new_id(), SMALL_MEDIA))["id"]
    assert video_store.catalog.get(video_id)["seq"] == 1
    video_store.update(video_id, lambda v: transitions.start_part(v, "v00", "w1", 2.0))
    assert video_store.catalog.get(video_id)["seq"] == 2
    video_store.update(video_id, lambda v: transitions.report_progress(v, "v00", 50.0, 30.0, 1.0))
    assert video_store.get(video_id)["seq"] == 3
    assert video_store.catalog.get(video_id)["seq"] == 2  # progress is live only
    video_store.update(video_id, lambda v: transitions.cancel(v, 3.0))
    recorded = video_store.catalog.get(video_id)
    assert (recorded["seq"], recorded["state"]) == (4, "canceled")
    assert video_store.redis.ttl(redis_keys.video_key(video_id)) > 0  # an ended video's copy expires


def test_a_redis_that_lost_everything_is_refilled_from_the_database(video_store):
    video_id = video_store.create(video_record(new_id(), SMALL_MEDIA))["id"]
    video_store.update(video_id, lambda v: transitions.start_part(v, "v00", "w1", 2.0))
    video_store.redis.flushdb()
    assert video_store.get(video_id)["seq"] == 2
    # The copy put back is the live one again: transitions apply to it.
    video, changed = video_store.update(video_id, lambda v: transitions.finish_part(v, "v00", 3.0, {}))
    assert changed and video["seq"] == 3 and states.part(video, "v00")["state"] == "ready"
    assert video_store.redis.ttl(redis_keys.video_key(video_id)) == -1
    assert video_store.cache.counts()["miss"] >= 1


def test_a_reader_that_fetched_an_old_record_cannot_put_it_back(video_store):
    video_id = video_store.create(video_record(new_id(), SMALL_MEDIA))["id"]
    old = video_store.catalog.get(video_id)  # a slow reader, before the write below
    video_store.update(video_id, lambda v: transitions.start_part(v, "v00", "w1", 2.0))
    video_store.redis.delete(redis_keys.video_key(video_id))  # the copy expires, or is evicted
    assert video_store.cache.fill(old, 0) == -1
    assert video_store.get(video_id)["seq"] == 2
    # Nor can it bring back a deleted video.
    old = video_store.catalog.get(video_id)
    video_store.delete(video_id)
    assert video_store.cache.fill(old, 0) == -1
    with pytest.raises(VideoNotFound):
        video_store.get(video_id)
    with pytest.raises(VideoNotFound):
        video_store.update(video_id, lambda v: transitions.cancel(v, 4.0))


def test_no_read_that_starts_after_a_write_returned_sees_the_state_before_it(video_store):
    """Writers flip the video's state; an evicter keeps dropping the cached copy, so reads
    keep going to the database and filling the cache while writes land; every read must
    show a seq at least as new as the last write that had returned when the read began."""
    video_id = video_store.create(video_record(new_id(), SMALL_MEDIA))["id"]
    returned = [1]  # newest seq whose write has returned
    lock, stop, stale, errors = threading.Lock(), threading.Event(), [], []
    reads = [0]

    def flip(v):
        v["state"] = "processing" if v["state"] == "queued" else "queued"
        return True

    def writer():
        while not stop.is_set():
            video, _ = video_store.update(video_id, flip)
            with lock:
                returned[0] = max(returned[0], video["seq"])

    def reader():
        while not stop.is_set():
            with lock:
                floor = returned[0]
            seq = video_store.get(video_id)["seq"]
            reads[0] += 1
            if seq < floor:
                stale.append((seq, floor))

    def evicter():
        while not stop.is_set():
            video_store.redis.delete(redis_keys.video_key(video_id))
            time.sleep(random.uniform(0, 0.003))  # evictions land at random between reads and writes

    def guard(work):
        def run():
            try:
                work()
            except Exception as exc:  # reported below, not swallowed
                errors.append(exc)
                stop.set()

        return run

    threads = [threading.Thread(target=guard(f)) for f in (writer, writer, reader, reader, reader, evicter)]
    for t in threads:
        t.start()
    # Until enough has happened to mean something (a busy machine writes slowly), at most 20 s.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not stop.is_set():
        time.sleep(0.25)
        if returned[0] > 100 and reads[0] > 400 and video_store.cache.counts().get("miss", 0) > 40:
            break
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    counts = video_store.cache.counts()
    assert returned[0] > 50 and reads[0] > 200 and counts.get("miss", 0) > 20, (returned, reads, counts)
    assert not stale, f"{len(stale)} of {reads[0]} reads saw an older state, e.g. {stale[:3]}"
    assert video_store.catalog.get(video_id)["seq"] == returned[0]


def test_library_pages_are_cached_and_never_outlive_a_change(video_store):
    first = video_store.create(video_record(new_id(), SMALL_MEDIA))["id"]
    assert [v["id"] for v in video_store.page()[0]] == [first]
    assert [v["id"] for v in video_store.page()[0]] == [first]
    assert video_store.cache.counts()["page_hit"] == 1
    second = video_store.create({**video_record(new_id(), SMALL_MEDIA), "created_at": 2.0})["id"]
    assert [v["id"] for v in video_store.page()[0]] == [second, first]
    video_store.update(first, lambda v: transitions.cancel(v, 3.0))
    assert [v["id"] for v in video_store.page(state="canceled")[0]] == [first]
    video_store.delete(first)
    assert [v["id"] for v in video_store.page()[0]] == [second]
    assert video_store.page(state="canceled")[0] == []


def test_changes_made_while_the_database_is_down_reach_it_when_it_is_back(video_store):
    video_id = video_store.create(video_record(new_id(), SMALL_MEDIA))["id"]
    working = video_store.catalog
    video_store.catalog = catalog.Catalog(database.make_engine(DOWN))
    try:
        video, _ = video_store.update(video_id, lambda v: transitions.start_part(v, "v00", "w1", 2.0))
        assert video_store.get(video_id)["seq"] == 2  # the live copy goes on
        assert video_store.redis.sismember(redis_keys.BEHIND, video_id)
    finally:
        video_store.catalog.engine.dispose()
        video_store.catalog = working
    assert working.get(video_id)["seq"] == 1
    assert video_store.catch_up() == 1
    assert working.get(video_id)["seq"] == 2 and not video_store.redis.sismember(redis_keys.BEHIND, video_id)
