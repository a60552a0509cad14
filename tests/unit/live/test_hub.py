"""The hub's fan-out: each snapshot rendered once, newest only, slow followers dropped."""

from __future__ import annotations

import json

from transcoder.live import follower as follower_module
from transcoder.live.hub import Hub


def _video(video_id: str, seq: int, state: str = "processing") -> dict:
    return {"id": video_id, "seq": seq, "state": state}


def _hub() -> tuple[Hub, list]:
    rendered = []

    def render(video: dict) -> str:
        rendered.append(video["seq"])
        return json.dumps(video)

    hub = Hub(client=None, store=_NoStore(), render=render)
    return hub, rendered


class _NoStore:
    """A store with no videos yet: the tests publish every snapshot themselves."""

    def many(self, video_ids):
        return []

    def active(self):
        return []


def _follower(hub: Hub, videos):
    """A follower registered without a subscription (``Hub.follow`` starts one)."""
    follower, _ = hub.register(videos)
    return follower


def test_each_snapshot_is_rendered_once_for_every_follower():
    hub, rendered = _hub()
    followers = [_follower(hub, ["a"]) for _ in range(50)]
    hub.publish(_video("a", 2))
    assert rendered == [2]
    for follower in followers:
        (snap,) = follower.take(0)
        assert (snap.video_id, snap.seq) == ("a", 2)


def test_a_follower_gets_only_the_videos_it_follows_and_everything_follower_gets_all():
    hub, _ = _hub()
    only_a, everything = _follower(hub, ["a"]), _follower(hub, None)
    hub.publish(_video("a", 2))
    hub.publish(_video("b", 5))
    assert [s.video_id for s in only_a.take(0)] == ["a"]
    assert [s.video_id for s in everything.take(0)] == ["a", "b"]


def test_a_slow_reader_keeps_only_the_newest_snapshot_of_each_video():
    hub, _ = _hub()
    follower = _follower(hub, ["a", "b"])
    for seq in range(2, 200):
        hub.publish(_video("a", seq))
    hub.publish(_video("b", 3))
    taken = follower.take(0)
    assert [(s.video_id, s.seq) for s in taken] == [("a", 199), ("b", 3)]
    assert hub.counts["coalesced"] == 197


def test_news_older_than_what_was_seen_is_dropped():
    hub, rendered = _hub()
    follower = _follower(hub, ["a"])
    hub.publish(_video("a", 5))
    assert [s.seq for s in follower.take(0)] == [5]
    hub.publish(_video("a", 4))  # a resync read that raced a newer publish
    hub.publish(_video("a", 5))  # the same snapshot from pub/sub and from a resync
    assert follower.take(0) == []
    assert rendered == [5]
    # Offered directly (a new follower's first snapshot), an old one is refused too.
    assert follower.offer(follower_module.Snapshot("a", 3, False, "{}"))
    assert follower.take(0) == []


def test_an_ended_video_leaves_a_follower_of_given_videos():
    hub, _ = _hub()
    follower = _follower(hub, ["a", "b"])
    hub.publish(_video("a", 9, "ready"))
    assert [s.terminal for s in follower.take(0)] == [True]
    assert follower.videos == {"b"} and not follower.finished
    hub.publish(_video("b", 4, "failed"))
    follower.take(0)
    assert follower.finished


def test_a_follower_that_stops_reading_is_dropped_and_costs_nothing_more(monkeypatch):
    hub, _ = _hub()
    stuck, reading = _follower(hub, ["a"]), _follower(hub, ["a"])
    clock = [1000.0]
    monkeypatch.setattr(follower_module.time, "monotonic", lambda: clock[0])
    hub.publish(_video("a", 2))
    reading.take(0)
    clock[0] += follower_module.STALL_S + 1
    hub.publish(_video("a", 3))
    assert stuck.dropped and not stuck.pending
    assert hub.counts["dropped"] == 1
    assert hub.followers == 1
    assert [s.seq for s in reading.take(0)] == [3]
    # The dropped one is woken, so its stream notices and closes.
    assert stuck.take(0) == []


def test_unfollowing_stops_news_and_closing_forgets_the_follower():
    hub, _ = _hub()
    follower = _follower(hub, ["a", "b"])
    hub.remove(follower, ["a"])
    hub.publish(_video("a", 2))
    assert follower.take(0) == []
    hub.close(follower)
    assert hub.followers == 0 and hub.indexed_videos == 0


def test_a_follower_of_one_users_videos_takes_only_theirs():
    from collections import Counter

    from transcoder.live.follower import Follower, Snapshot

    follower = Follower(Counter(), None, owner="alice")
    assert follower.offer(Snapshot("v1", 1, False, "{}", owner="bob"))
    assert follower.offer(Snapshot("v2", 1, False, "{}", owner=None))
    assert follower.offer(Snapshot("v3", 1, False, "{}", owner="alice"))
    assert [s.video_id for s in follower.take(0)] == ["v3"]
    everyone = Follower(Counter(), None)
    everyone.offer(Snapshot("v1", 1, False, "{}", owner="bob"))
    assert [s.video_id for s in everyone.take(0)] == ["v1"]
