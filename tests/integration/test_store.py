"""Video documents in a real Redis: every change is one new snapshot with a higher sequence
number, stored and published together; a change that changes nothing publishes nothing."""

from __future__ import annotations

import json

import pytest
import redis

from tests.system import REDIS_URL, video_record
from transcoder import jobs, keys
from transcoder.probe import MediaInfo
from transcoder.store import VideoStore

URL = REDIS_URL.rsplit("/", 1)[0] + "/8"
MEDIA = MediaInfo(5.0, 640, 272, 640, 272, 0, "1:1", 25.0, False, "h264", None, "yuv420p", "mov")


@pytest.fixture
def store():
    client = redis.Redis.from_url(URL)
    client.flushdb()
    yield VideoStore(client, 3600)
    client.flushdb()


def test_each_change_raises_seq_and_publishes_the_stored_snapshot(store):
    video = store.create(video_record("v" * 32, MEDIA))
    events = store.redis.pubsub()
    events.subscribe(keys.events_channel(video["id"]))
    events.get_message(timeout=1)  # the subscription's confirmation
    seqs = [video["seq"]]
    for change in (
        lambda v: jobs.start_part(v, "v00", "w1", 2.0),
        lambda v: jobs.report_progress(v, "v00", 50.0, 30.0, 1.0),
        lambda v: jobs.report_progress(v, "v00", 60.0, 30.0, 0.8),
    ):
        stored, changed = store.update(video["id"], change)
        assert changed
        seqs.append(stored["seq"])
        published = json.loads(events.get_message(timeout=1)["data"])
        assert published == stored == store.get(video["id"])
    assert seqs == [1, 2, 3, 4]
    # A transition that changes nothing (a finished part started again) is not a new snapshot.
    _, changed = store.update(video["id"], lambda v: jobs.report_progress(v, "v01", 10.0, None, None))
    assert not changed and store.get(video["id"])["seq"] == 4
    assert events.get_message(timeout=0.3) is None
    events.close()
