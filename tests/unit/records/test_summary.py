"""What the API shows of a video, summed up from its parts (pure)."""

from tests.unit.records.test_transitions import fresh, ids, run
from transcoder.records import states, summary, transitions


def test_a_fresh_video_shows_every_rendition_queued_at_zero():
    video = fresh()
    assert {r["state"] for r in video["renditions"]} == {"queued"}
    assert {r["progress"] for r in video["renditions"]} == {0.0}
    assert summary.overall_progress(video) == 0.0
    assert summary.playable_renditions(video) == []


def test_progress_is_weighted_by_each_parts_seconds_and_never_100_before_ready():
    video = fresh()
    pictures = ids(video, "video")
    transitions.start_part(video, pictures[0], "w1", 2.0)
    transitions.report_progress(video, pictures[0], 100.0, 30.0, 0.0)
    first = states.part(video, pictures[0])
    whole = sum(states.part(video, p)["seconds"] for p in pictures)
    rendition = states.rendition(video, "144p")
    assert rendition["state"] == "running"
    assert rendition["progress"] == round(100.0 * first["seconds"] / whole, 1)
    assert rendition["fps"] == 30.0
    # Every picture part done, but not the join: still under 100.
    for part_id in pictures:
        if part_id != pictures[0]:
            transitions.start_part(video, part_id, "w1", 2.0)
        transitions.report_progress(video, part_id, 100.0, 30.0, 0.0)
    assert states.rendition(video, "144p")["progress"] == 99.9


def test_a_failed_part_fails_its_renditions_with_its_reason():
    video = fresh()
    part_id = ids(video, "video")[0]
    transitions.start_part(video, part_id, "w1", 2.0)
    reason = {"code": "ffmpeg_failed", "message": "It broke."}
    transitions.fail_part(video, part_id, reason, 3.0)
    rendition = states.rendition(video, "144p")
    assert rendition["state"] == "failed" and rendition["error"] == reason


def test_a_rendition_plays_once_its_first_part_and_its_sound_are_ready():
    video = fresh()
    first = ids(video, "video")[0]
    run(video, first)
    assert summary.playable_renditions(video) == []  # no sound yet
    for sound in ids(video, "audio"):
        run(video, sound)
    assert [r["name"] for r in summary.playable_renditions(video)] == [r["name"] for r in video["renditions"]]


def finished(storyboard=True):
    """A video whose every part is ready; the join made the storyboard, or not."""
    video = fresh()
    for part_id in ids(video, "audio") + ids(video, "video"):
        run(video, part_id)
    assert transitions.release(video, 3.0) == ["join"]
    results = {"storyboard": {"count": 12}} if storyboard else {"storyboard": None}
    run(video, "join", now=4.0, results=results)
    return video


def test_a_finished_video_shows_every_rendition_ready_at_100_with_no_eta():
    video = finished()
    for rendition in video["renditions"]:
        assert rendition["state"] == "ready"
        assert rendition["progress"] == 100.0 and rendition["eta_seconds"] == 0.0
        assert rendition["fps"] is None and rendition["error"] is None
    assert video["previews"] == {"state": "ready", "error": None, "storyboard": {"count": 12}}
    assert summary.overall_progress(video) == 100.0


def test_a_join_without_a_storyboard_fails_only_the_previews():
    video = finished(storyboard=False)
    assert {r["state"] for r in video["renditions"]} == {"ready"}
    assert video["previews"]["state"] == "failed" and video["previews"]["storyboard"] is None


def test_the_previews_follow_the_video_until_the_join_has_run():
    video = fresh()
    assert video["previews"]["state"] == "queued"
    first = ids(video, "video")[0]
    transitions.start_part(video, first, "w1", 2.0)
    assert video["state"] == "processing" and video["previews"]["state"] == "running"
    transitions.cancel(video, 3.0)
    assert video["previews"]["state"] == "canceled"
    assert {r["state"] for r in video["renditions"]} == {"canceled"}
    assert summary.playable_renditions(video) == []


def test_a_failed_join_fails_the_previews_with_its_reason():
    video = fresh()
    for part_id in ids(video, "audio") + ids(video, "video"):
        run(video, part_id)
    transitions.release(video, 3.0)
    transitions.start_part(video, "join", "w1", 4.0)
    reason = {"code": "storage_error", "message": "The disk is full."}
    transitions.fail_part(video, "join", reason, 5.0)
    assert video["previews"]["state"] == "failed" and video["previews"]["error"] == reason
    assert {r["error"]["code"] for r in video["renditions"]} == {"storage_error"}


def test_speed_is_the_sum_of_the_running_parts_and_the_eta_the_longest_once_none_waits():
    video = fresh()
    pictures = ids(video, "video")
    for part_id in pictures:
        transitions.start_part(video, part_id, "w1", 2.0)
    for n, part_id in enumerate(pictures):
        transitions.report_progress(video, part_id, 50.0, 10.0, 3.0 + n)
    rendition = states.rendition(video, "144p")
    assert rendition["fps"] == 10.0 * len(pictures)
    assert rendition["eta_seconds"] == 3.0 + len(pictures) - 1
    assert rendition["progress"] == 50.0
    # One part still waiting to start: no honest ETA yet.
    waiting = fresh()
    first = ids(waiting, "video")[0]
    transitions.start_part(waiting, first, "w1", 2.0)
    transitions.report_progress(waiting, first, 50.0, 10.0, 3.0)
    assert states.rendition(waiting, "144p")["eta_seconds"] is None


def test_overall_progress_is_the_mean_of_the_renditions_rounded():
    video = fresh()
    for n, rendition in enumerate(video["renditions"]):
        rendition["progress"] = 10.0 * (n + 1) + 0.04
    count = len(video["renditions"])
    assert summary.overall_progress(video) == round(
        sum(10.0 * (n + 1) + 0.04 for n in range(count)) / count, 1
    )
    video["renditions"] = []
    assert summary.overall_progress(video) == 0.0


def test_a_failed_video_has_nothing_to_play_even_with_parts_ready():
    video = fresh()
    for part_id in ids(video, "audio") + ids(video, "video")[:1]:
        run(video, part_id)
    assert summary.playable_renditions(video)
    video["state"] = "failed"
    assert summary.playable_renditions(video) == []
