"""Video and rendition state transitions (pure; the Redis side is in the integration tests)."""

from transcoder import jobs
from transcoder.ladder import plan
from transcoder.probe import MediaInfo

MEDIA = MediaInfo(5.0, 640, 272, 640, 272, 0, "1:1", 25.0, False, "h264", None, "yuv420p", "mov")


def fresh():
    return jobs.new_video("v1", "bikes.mp4", MEDIA, plan(640, 272), now=1.0)


def test_new_video_is_queued_with_its_ladder():
    video = fresh()
    assert video["state"] == "queued"
    assert [(r["name"], r["state"], r["progress"]) for r in video["renditions"]] == [
        ("144p", "queued", 0.0),
        ("240p", "queued", 0.0),
    ]


def finish_previews(video, now=1.5):
    jobs.start_part(video, jobs.PREVIEWS, "w1")
    jobs.finish_part(video, jobs.PREVIEWS, now, storyboard={"count": 5})


def test_all_work_done_makes_the_video_ready_once():
    video = fresh()
    assert jobs.start_part(video, "144p", "w1")
    assert video["state"] == "processing"
    assert jobs.finish_part(video, "144p", now=2.0)
    assert video["state"] == "processing"
    jobs.start_part(video, "240p", "w2")
    assert jobs.finish_part(video, "240p", now=2.5)
    assert video["state"] == "processing"  # the previews are not made yet
    finish_previews(video, now=3.0)
    assert (video["state"], video["finished_at"], jobs.overall_progress(video)) == ("ready", 3.0, 100.0)
    assert not jobs.finish_part(video, "240p", now=4.0)
    assert not jobs.settle(video, now=5.0)
    assert video["finished_at"] == 3.0


def test_a_finished_rung_is_not_started_again():
    video = fresh()
    jobs.start_part(video, "144p", "w1")
    jobs.finish_part(video, "144p", now=2.0)
    assert not jobs.start_part(video, "144p", "w2")
    assert jobs.rung(video, "144p")["attempts"] == 1


def test_progress_never_goes_backwards_and_only_while_running():
    video = fresh()
    assert not jobs.report_progress(video, "144p", 10.0, 30.0, 4.0)
    jobs.start_part(video, "144p", "w1")
    jobs.report_progress(video, "144p", 40.0, 30.0, 3.0)
    jobs.report_progress(video, "144p", 35.0, 31.0, 2.5)
    entry = jobs.rung(video, "144p")
    assert (entry["progress"], entry["fps"], entry["eta_seconds"]) == (40.0, 31.0, 2.5)


def test_failed_rung_fails_the_video_naming_it_and_keeps_the_others():
    video = fresh()
    finish_previews(video)
    jobs.start_part(video, "144p", "w1")
    jobs.finish_part(video, "144p", now=2.0)
    jobs.start_part(video, "240p", "w1")
    jobs.fail_part(video, "240p", {"code": "encode_failed", "message": "bad frame"}, now=3.0)
    assert video["state"] == "failed"
    assert video["error"] == {"code": "encode_failed", "message": "The 240p rendition failed: bad frame"}
    assert jobs.rung(video, "144p")["state"] == "ready"


def test_video_stays_processing_while_a_rung_still_runs():
    video = fresh()
    jobs.start_part(video, "144p", "w1")
    jobs.fail_part(video, "144p", {"code": "encode_failed", "message": "x"}, now=2.0)
    assert video["state"] == "processing"
    assert not jobs.settle(video, now=2.0)


def test_failed_previews_leave_the_video_ready_without_a_storyboard():
    video = fresh()
    for name in ("144p", "240p"):
        jobs.start_part(video, name, "w1")
        jobs.finish_part(video, name, now=2.0)
    jobs.start_part(video, jobs.PREVIEWS, "w2")
    jobs.fail_part(video, jobs.PREVIEWS, {"code": "encode_failed", "message": "x"}, now=3.0)
    assert (video["state"], video["error"], video["previews"]["storyboard"]) == ("ready", None, None)


def test_playable_as_soon_as_one_rung_has_hls():
    video = fresh()
    assert jobs.playable_variants(video) == []
    jobs.start_part(video, "144p", "w1")
    jobs.finish_part(video, "144p", now=2.0, hls={"bandwidth": 1})
    assert [e["name"] for e in jobs.playable_variants(video)] == ["144p"]
    assert video["state"] == "processing"


def test_cancel_ends_the_video_and_its_unfinished_parts_only():
    video = fresh()
    jobs.start_part(video, "144p", "w1")
    jobs.finish_part(video, "144p", now=2.0)
    jobs.start_part(video, "240p", "w1")
    assert jobs.cancel(video, now=3.0)
    assert video["state"] == "canceled" and video["error"]["code"] == "canceled"
    assert [e["state"] for e in jobs.parts(video)] == ["ready", "canceled", "canceled"]
    assert not jobs.cancel(video, now=4.0)
    assert not jobs.start_part(video, "240p", "w2")
    assert not jobs.finish_part(video, "240p", now=5.0)


def test_requeue_keeps_progress_and_fails_after_the_last_attempt():
    video = fresh()
    error = {"code": "worker_lost", "message": "The worker stopped."}
    for attempt in (1, 2):
        jobs.start_part(video, "144p", "w1")
        jobs.report_progress(video, "144p", 30.0 * attempt, None, None)
        assert jobs.requeue_part(video, "144p", error, now=2.0, max_attempts=3, retry_at=9.0)
        entry = jobs.rung(video, "144p")
        assert (entry["state"], entry["progress"], entry["retry_at"]) == ("queued", 30.0 * attempt, 9.0)
    jobs.start_part(video, "144p", "w1")
    assert jobs.rung(video, "144p")["attempts"] == 3
    assert jobs.requeue_part(video, "144p", error, now=3.0, max_attempts=3)
    entry = jobs.rung(video, "144p")
    assert entry["state"] == "failed"
    assert entry["error"]["message"] == "The worker stopped. This happened 3 times, so we stopped trying."


def test_storage_outages_do_not_use_up_attempts_but_are_capped():
    video = fresh()
    outage = {"code": "storage_unreachable", "message": "Object storage cannot be reached right now."}
    for _ in range(5):
        jobs.start_part(video, "144p", "w1")
        assert jobs.requeue_part(video, "144p", outage, now=2.0, max_attempts=3, outage=True, max_outages=5)
        assert jobs.rung(video, "144p")["state"] == "queued"
    assert (jobs.rung(video, "144p")["attempts"], jobs.rung(video, "144p")["outages"]) == (0, 5)
    jobs.start_part(video, "144p", "w1")
    assert jobs.requeue_part(video, "144p", outage, now=3.0, max_attempts=3, outage=True, max_outages=5)
    entry = jobs.rung(video, "144p")
    assert entry["state"] == "failed" and entry["error"]["code"] == "storage_unreachable"
    assert entry["error"]["message"].endswith("It stayed out of reach, so we stopped trying.")


def test_retry_queues_only_the_failed_parts_of_a_failed_video():
    video = fresh()
    finish_previews(video)
    jobs.start_part(video, "144p", "w1")
    jobs.finish_part(video, "144p", now=2.0)
    assert jobs.retry_failed(video) == []
    jobs.start_part(video, "240p", "w1")
    jobs.fail_part(video, "240p", {"code": "encode_failed", "message": "x"}, now=3.0)
    assert jobs.retry_failed(video) == ["240p"]
    assert (video["state"], video["error"]) == ("processing", None)
    assert jobs.rung(video, "240p")["state"] == "queued" and jobs.rung(video, "144p")["state"] == "ready"


def test_retry_gives_a_part_failed_by_storage_outages_a_fresh_budget():
    video = fresh()
    outage = {"code": "storage_unreachable", "message": "Object storage is out of reach."}
    for _ in range(3):
        jobs.start_part(video, "144p", "w1")
        jobs.requeue_part(video, "144p", outage, now=2.0, max_attempts=3, outage=True, max_outages=2)
    assert jobs.rung(video, "144p")["state"] == "failed"
    jobs.start_part(video, "240p", "w1")
    jobs.finish_part(video, "240p", now=2.5)
    finish_previews(video)
    assert video["state"] == "failed"
    assert jobs.retry_failed(video) == ["144p"]
    entry = jobs.rung(video, "144p")
    assert (entry["attempts"], entry["outages"], entry["last_error"]) == (0, 0, None)
    jobs.start_part(video, "144p", "w2")
    # One outage after Retry is waited out again, not the end.
    assert jobs.requeue_part(video, "144p", outage, now=4.0, max_attempts=3, outage=True, max_outages=2)
    assert jobs.rung(video, "144p")["state"] == "queued"
