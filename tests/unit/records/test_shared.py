"""Documents of videos that share another's outputs (pure)."""

from tests.unit.records.test_transitions import fresh, ids, run
from transcoder.records import shared, transitions

OWN = {"id": "v2", "filename": "again.mp4", "owner": "u2", "owner_name": "bob", "source_sha256": "ab",
       "reuse_key": "k", "created_at": 5.0, "stored_bytes": 10}  # fmt: skip


def ended():
    video = fresh()
    video["reuse_key"] = "k"
    for part_id in ids(video, "video") + ids(video, "audio"):
        run(video, part_id)
    transitions.release(video, 2.0)
    run(video, "join")
    video["stored_bytes"] = 1000
    assert video["state"] == "ready"
    return video


def test_a_repeat_is_ready_with_the_outputs_and_its_own_identity_and_full_size():
    home = ended()
    video = shared.reused(home, OWN, "v1", now=6.0)
    assert (video["id"], video["filename"], video["owner"], video["state"]) == (
        "v2",
        "again.mp4",
        "u2",
        "ready",
    )
    assert video["files_from"] == "v1" and video["stored_bytes"] == 1000 and video["finished_at"] == 6.0
    assert video["parts"] == home["parts"] and video["renditions"] == home["renditions"]
    assert home["id"] == "v1" and "files_from" not in home  # the template is left alone
    assert transitions.dispatchable(video) == []


def test_a_follower_sends_nothing_until_released_and_then_what_its_origin_planned():
    plan = shared.planned(fresh())
    follower = shared.following(plan, OWN, "v1")
    assert follower["follows"] == "v1" and follower["state"] == "queued" and follower["stored_bytes"] == 10
    assert transitions.dispatchable(follower) == []
    assert not transitions.start_part(follower, ids(follower, "audio")[0], "w1", 1.0)
    assert shared.release(follower, now=7.0)
    assert "follows" not in follower and not shared.release(follower, now=8.0)
    assert transitions.dispatchable(follower) == transitions.dispatchable(fresh())
    # Due now: the sweep sends them again if the message that should is lost.
    assert all(
        p["retry_at"] == 7.0 for p in follower["parts"] if p["id"] in transitions.dispatchable(follower)
    )


def test_a_follower_attaches_to_the_ready_outputs_keeping_its_identity_and_seq():
    follower = shared.following(shared.planned(fresh()), OWN, "v1")
    follower["seq"] = 4
    assert shared.attach(follower, ended(), "v1", now=9.0)
    assert (follower["id"], follower["owner"], follower["seq"], follower["state"]) == ("v2", "u2", 4, "ready")
    assert follower["files_from"] == "v1" and "follows" not in follower
    assert not shared.attach(follower, ended(), "v1", now=9.0)  # once


def test_a_canceled_follower_neither_attaches_nor_is_released():
    follower = shared.following(shared.planned(fresh()), OWN, "v1")
    transitions.cancel(follower, 3.0)
    assert not shared.attach(follower, ended(), "v1", 4.0)
    assert not shared.release(follower, 4.0) and not shared.refollow(follower, "v3")
