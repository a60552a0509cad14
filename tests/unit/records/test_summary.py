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
