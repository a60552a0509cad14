"""Video, part and rendition state transitions (pure; the Redis side is in the integration tests)."""

from transcoder.media.frames import Frames
from transcoder.media.ladder import renditions_for
from transcoder.media.planner import plan as plan_parts
from transcoder.media.previews import StoryboardLayout
from transcoder.media.probe import MediaInfo
from transcoder.records import states, summary, transitions

MEDIA = MediaInfo(12.0, 640, 272, 640, 272, 0, "1:1", 25.0, True, "h264", "aac", "yuv420p", "mov")
FRAMES = Frames(tuple(i / 25 for i in range(300)), frozenset(range(0, 300, 50)))
STORYBOARD = StoryboardLayout(1, 12, 10, 2, 160, 68)


def fresh(shape="chunks"):
    ladder = renditions_for(640, 272)
    parts = plan_parts(
        FRAMES, [r.name for r in ladder], STORYBOARD, audio_bitrates=[64], shape=shape, poster_at=2
    )
    return transitions.new_video("v1", "bikes.mp4", MEDIA, ladder, parts, now=1.0)


def ids(video, kind):
    return [p["id"] for p in video["parts"] if p["kind"] == kind]


def run(video, part_id, now=2.0, results=None):
    assert transitions.start_part(video, part_id, "w1", now)
    return transitions.finish_part(video, part_id, now, results or {})


def encode_all(video):
    for part_id in ids(video, "audio") + ids(video, "video"):
        run(video, part_id)
    return transitions.release(video, 3.0)


def test_new_video_is_queued_with_its_ladder_and_parts():
    video = fresh()
    assert video["state"] == "queued"
    assert [(r["name"], r["state"], r["progress"]) for r in video["renditions"]] == [
        ("144p", "queued", 0.0),
        ("240p", "queued", 0.0),
    ]
    assert ids(video, "audio") == ["a64"] and ids(video, "join") == ["join"]
    assert len(ids(video, "video")) == 2  # 12 s: a 4 s first chunk, then the rest
    assert transitions.dispatchable(video) == ["a64", "v00", "v01"]  # the join waits


def test_the_join_is_released_once_when_its_last_part_is_ready():
    video = fresh()
    run(video, "a64")
    run(video, "v00")
    assert transitions.release(video, 2.5) == []
    assert not transitions.start_part(video, "join", "w1")  # an early copy of its message does nothing
    run(video, "v01")
    assert transitions.release(video, 3.0) == ["join"]
    assert states.part(video, "join")["retry_at"] == 3.0  # the sweeper re-sends it if the message is lost
    assert transitions.release(video, 3.5) == []


def test_all_work_done_makes_the_video_ready_once():
    video = fresh()
    encode_all(video)
    assert video["state"] == "processing"
    assert [r["state"] for r in video["renditions"]] == ["running", "running"]  # not joined yet
    assert run(video, "join", now=4.0, results={"storyboard": {"count": 20}})
    assert (video["state"], video["finished_at"], summary.overall_progress(video)) == ("ready", 4.0, 100.0)
    assert video["previews"]["state"] == "ready"
    assert not transitions.finish_part(video, "join", now=5.0)
    assert not transitions.settle(video, now=5.0)


def test_rendition_progress_is_its_parts_weighted_by_length():
    video = fresh()
    transitions.start_part(video, "v00", "w1")
    transitions.start_part(video, "v01", "w2")
    assert transitions.report_progress(video, "v00", 50.0, 30.0, 1.0)
    assert transitions.report_progress(video, "v01", 25.0, 20.0, 6.0)
    v00, v01 = states.part(video, "v00"), states.part(video, "v01")
    expected = round((50 * v00["seconds"] + 25 * v01["seconds"]) / (v00["seconds"] + v01["seconds"]), 1)
    rendition = states.rendition(video, "144p")
    assert (rendition["state"], rendition["progress"], rendition["fps"], rendition["eta_seconds"]) == (
        "running", expected, 50.0, 6.0)  # fmt: skip


def test_progress_never_goes_backwards_and_only_while_running():
    video = fresh()
    assert not transitions.report_progress(video, "v00", 10.0, None, None)
    transitions.start_part(video, "v00", "w1")
    transitions.report_progress(video, "v00", 40.0, 30.0, 2.0)
    transitions.report_progress(video, "v00", 20.0, 30.0, 2.0)
    assert states.part(video, "v00")["progress"] == 40.0


def test_a_finished_part_is_not_started_again():
    video = fresh()
    run(video, "v00")
    assert not transitions.start_part(video, "v00", "w2")
    assert states.part(video, "v00")["attempts"] == 1


def test_a_late_copy_restarts_a_part_whose_run_died_only_while_attempts_are_left():
    video = fresh()
    for attempt in (1, 2, 3):  # each run dies; a copy of its message comes before the sweeper
        assert transitions.start_part(video, "v00", f"w{attempt}", max_attempts=3)
        assert states.part(video, "v00")["attempts"] == attempt
    assert not transitions.start_part(video, "v00", "w4", max_attempts=3)
    assert states.part(video, "v00")["attempts"] == 3  # the sweeper fails it: worker lost 3 times


def test_failed_part_fails_the_video_naming_its_renditions_and_keeps_the_others():
    video = fresh()
    run(video, "a64")
    run(video, "v00")
    transitions.start_part(video, "v01", "w1")
    assert transitions.fail_part(video, "v01", {"code": "encode_failed", "message": "boom"}, now=3.0)
    # The join can never run now: the video ends failed, its finished parts kept.
    assert video["state"] == "failed"
    assert video["error"]["message"] == "The 144p, 240p rendition failed: boom"
    assert states.part(video, "v00")["state"] == "ready"
    assert states.part(video, "join")["state"] == "queued"


def test_video_stays_processing_while_a_part_still_runs():
    video = fresh()
    transitions.start_part(video, "v00", "w1")
    transitions.start_part(video, "v01", "w1")
    transitions.fail_part(video, "v01", {"code": "encode_failed", "message": "boom"}, now=3.0)
    assert video["state"] == "processing"
    transitions.fail_part(video, "v00", {"code": "encode_failed", "message": "boom"}, now=3.0)
    assert video["state"] == "processing"  # the sound is still to come
    run(video, "a64")
    assert video["state"] == "failed"


def test_a_join_without_a_storyboard_leaves_the_video_ready_without_previews():
    video = fresh()
    encode_all(video)
    run(video, "join", results={"storyboard": None})
    assert video["state"] == "ready"
    assert video["previews"]["state"] == "failed"


def test_playable_once_the_sound_and_a_renditions_first_part_are_ready():
    video = fresh()
    run(video, "v00")
    assert summary.playable_renditions(video) == []  # no sound yet
    run(video, "a64")
    assert [r["name"] for r in summary.playable_renditions(video)] == ["144p", "240p"]


def test_renditions_shape_has_one_part_per_rendition():
    video = fresh("renditions")
    assert [(p["id"], p["rungs"]) for p in video["parts"] if p["kind"] == "video"] == [
        ("v00", ["144p"]),
        ("v01", ["240p"]),
    ]
    run(video, "a64")
    run(video, "v00")
    assert [r["name"] for r in summary.playable_renditions(video)] == ["144p"]


def test_cancel_ends_the_video_and_its_unfinished_parts_only():
    video = fresh()
    run(video, "v00")
    transitions.start_part(video, "v01", "w1")
    assert transitions.cancel(video, now=3.0)
    assert video["state"] == "canceled"
    assert [p["state"] for p in video["parts"]] == ["canceled", "ready", "canceled", "canceled"]
    assert [r["state"] for r in video["renditions"]] == ["canceled", "canceled"]
    assert video["stored_bytes"] == 0  # its files are removed: its quota is given back
    assert not transitions.cancel(video, now=4.0)


def test_requeue_keeps_progress_and_fails_after_the_last_attempt():
    video = fresh()
    error = {"code": "encoder_killed", "message": "The encoder was killed."}
    for attempt in (1, 2):
        transitions.start_part(video, "v01", "w1")
        transitions.report_progress(video, "v01", 30.0 * attempt, 10.0, 1.0)
        assert transitions.requeue_part(video, "v01", error, now=2.0, max_attempts=3, retry_at=4.0)
        entry = states.part(video, "v01")
        assert (entry["state"], entry["attempts"], entry["retry_at"]) == ("queued", attempt, 4.0)
        assert entry["progress"] == 30.0 * attempt
    transitions.start_part(video, "v01", "w1")
    assert transitions.requeue_part(video, "v01", error, now=3.0, max_attempts=3)
    entry = states.part(video, "v01")
    assert entry["state"] == "failed"
    assert entry["error"]["message"] == "The encoder was killed. This happened 3 times, so we stopped trying."


def test_storage_outages_do_not_use_up_attempts_but_are_capped():
    video = fresh()
    error = {"code": "storage_unreachable", "message": "Storage is out of reach."}
    for _ in range(2):
        transitions.start_part(video, "a64", "w1")
        assert transitions.requeue_part(
            video, "a64", error, now=2.0, max_attempts=1, outage=True, max_outages=2
        )
        assert states.part(video, "a64")["attempts"] == 0
    transitions.start_part(video, "a64", "w1")
    transitions.requeue_part(video, "a64", error, now=2.0, max_attempts=1, outage=True, max_outages=2)
    entry = states.part(video, "a64")
    assert entry["state"] == "failed"
    assert entry["error"]["message"].endswith("It stayed out of reach, so we stopped trying.")


def test_retry_queues_only_the_failed_parts_of_a_failed_video():
    video = fresh()
    assert transitions.retry_failed(video) == []  # not failed
    run(video, "a64")
    run(video, "v00")
    transitions.start_part(video, "v01", "w1")
    transitions.fail_part(video, "v01", {"code": "encode_failed", "message": "boom"}, now=3.0)
    assert transitions.retry_failed(video) == ["v01"]
    assert video["state"] == "processing" and video["error"] is None
    assert states.part(video, "v00")["state"] == "ready"  # finished siblings are kept
    run(video, "v01")
    assert transitions.release(video, 4.0) == ["join"]


def test_retry_gives_a_part_failed_by_storage_outages_a_fresh_budget():
    video = fresh()
    run(video, "a64")
    run(video, "v00")
    error = {"code": "storage_unreachable", "message": "Storage is out of reach."}
    transitions.start_part(video, "v01", "w1")
    transitions.requeue_part(video, "v01", error, now=2.0, max_attempts=3, outage=True, max_outages=0)
    assert video["state"] == "failed"
    transitions.retry_failed(video)
    entry = states.part(video, "v01")
    assert (entry["attempts"], entry["outages"], entry["last_error"]) == (0, 0, None)


def test_only_changes_of_state_are_milestones_for_the_database():
    from transcoder.records.states import milestone

    video = fresh()
    first = milestone(video)
    transitions.start_part(video, "v00", "w1", 1.0)
    started = milestone(video)
    assert started != first
    transitions.report_progress(video, "v00", 40.0, 30.0, 2.0)
    assert milestone(video) == started  # progress is live only
    transitions.finish_part(video, "v00", 2.0, {})
    assert milestone(video) != started


def test_what_an_ended_video_keeps_is_a_milestone_for_the_database():
    from transcoder.records.states import milestone
    from transcoder.records.transitions import weigh

    video = {"state": "ready", "parts": [], "stored_bytes": 100}
    before = milestone(video)
    assert weigh(video, 100) is False and milestone(video) == before
    assert weigh(video, 5000) is True and video["stored_bytes"] == 5000
    assert milestone(video) != before
