"""Every field each transition writes, exactly: what the API, the sweeper and the catalog read."""

import pytest

from tests.unit.records.test_transitions import MEDIA, fresh, ids, run
from transcoder.records import states, transitions

PART_FIELDS_AT_START = {
    "state": "queued", "progress": 0.0, "fps": None, "eta_seconds": None, "error": None, "attempts": 0,
    "outages": 0, "worker": None, "started_at": None, "finished_at": None, "retry_at": None,
    "last_error": None, "results": None,
}  # fmt: skip
REASON = {"code": "encoder_stalled", "message": "ffmpeg stopped making progress."}


def test_a_new_video_document_holds_exactly_these_fields():
    video = fresh()
    assert {k: v for k, v in video.items() if k not in ("renditions", "parts", "previews")} == {
        "id": "v1", "state": "queued", "error": None, "filename": "bikes.mp4", "created_at": 1.0,
        "finished_at": None, "seq": 0, "source": MEDIA.to_dict(),
    }  # fmt: skip
    assert video["previews"] == {"state": "queued", "error": None, "storyboard": None}
    first = video["renditions"][0]
    assert first == {
        "name": "144p", "width": 338, "height": 144, "video_maxrate_k": 250, "audio_bitrate_k": 64,
        "state": "queued", "progress": 0.0, "fps": None, "eta_seconds": None, "error": None,
    }  # fmt: skip
    for entry in video["parts"]:
        assert {k: entry[k] for k in PART_FIELDS_AT_START} == PART_FIELDS_AT_START, entry["id"]
        assert entry["released"] is (entry["id"] != "join")


def test_starting_a_part_records_who_when_and_one_more_attempt():
    video = fresh()
    part_id = ids(video, "video")[0]
    entry = states.part(video, part_id)
    entry.update(retry_at=9.0, fps=3.0, eta_seconds=4.0)
    assert transitions.start_part(video, part_id, "w7", 2.5)
    fields = ("state", "worker", "started_at", "attempts", "retry_at", "fps", "eta_seconds")
    assert {k: entry[k] for k in fields} == {
        "state": "running", "worker": "w7", "started_at": 2.5, "attempts": 1, "retry_at": None, "fps": None,
        "eta_seconds": None,
    }  # fmt: skip
    assert video["state"] == "processing"
    assert transitions.running_parts([video, fresh()]) == [(part_id, entry)]


def test_progress_is_rounded_capped_and_never_goes_back():
    video = fresh()
    part_id = ids(video, "video")[0]
    entry = states.part(video, part_id)
    assert not transitions.report_progress(video, part_id, 10.0, 1.0, 1.0)  # not running yet
    transitions.start_part(video, part_id, "w1", 2.0)
    assert transitions.report_progress(video, part_id, 33.333, 29.97, 1.26)
    assert (entry["progress"], entry["fps"], entry["eta_seconds"]) == (33.3, 30.0, 1.3)
    transitions.report_progress(video, part_id, 20.0, 12.34, None)
    assert (entry["progress"], entry["fps"], entry["eta_seconds"]) == (33.3, 12.3, None)
    transitions.report_progress(video, part_id, 250.0, None, 0.04)
    assert (entry["progress"], entry["fps"], entry["eta_seconds"]) == (100.0, None, 0.0)


def test_a_finished_part_is_at_100_with_its_results_and_is_finished_once():
    video = fresh()
    part_id = ids(video, "video")[0]
    transitions.start_part(video, part_id, "w1", 2.0)
    entry = states.part(video, part_id)
    entry["error"] = {"code": "x", "message": "an earlier attempt"}
    assert transitions.finish_part(video, part_id, 3.5, {"frames": 1})
    assert {k: entry[k] for k in ("state", "error", "progress", "eta_seconds", "results", "finished_at")} == {
        "state": "ready", "error": None, "progress": 100.0, "eta_seconds": 0.0, "results": {"frames": 1},
        "finished_at": 3.5,
    }  # fmt: skip
    assert not transitions.finish_part(video, part_id, 4.0, {"frames": 2})
    assert entry["results"] == {"frames": 1} and entry["finished_at"] == 3.5


def test_a_failed_part_keeps_its_reason_and_a_failed_video_names_the_renditions():
    video = fresh()
    for part_id in ids(video, "audio"):
        run(video, part_id)
    first, *rest = ids(video, "video")
    for part_id in rest:
        run(video, part_id)
    transitions.start_part(video, first, "w1", 2.0)
    assert transitions.fail_part(video, first, REASON, 5.0)
    entry = states.part(video, first)
    assert (entry["state"], entry["error"], entry["eta_seconds"]) == ("failed", REASON, None)
    names = ", ".join(r["name"] for r in video["renditions"])
    assert video["state"] == "failed" and video["finished_at"] == 5.0
    assert video["error"] == {
        "code": "encoder_stalled",
        "message": f"The {names} rendition failed: {REASON['message']}",
    }
    assert not transitions.fail_part(video, first, REASON, 6.0)


def test_a_retried_part_goes_back_to_the_queue_with_its_last_error_until_out_of_attempts():
    video = fresh()
    part_id = ids(video, "video")[0]
    entry = states.part(video, part_id)
    assert not transitions.requeue_part(video, part_id, REASON, 2.0, max_attempts=2)  # not running
    transitions.start_part(video, part_id, "w1", 2.0)
    transitions.report_progress(video, part_id, 40.0, 25.0, 3.0)
    assert transitions.requeue_part(video, part_id, REASON, 3.0, max_attempts=2, retry_at=5.0)
    assert {k: entry[k] for k in ("state", "retry_at", "eta_seconds", "fps", "last_error", "attempts")} == {
        "state": "queued", "retry_at": 5.0, "eta_seconds": None, "fps": None, "last_error": REASON,
        "attempts": 1,
    }  # fmt: skip
    assert entry["progress"] == 40.0  # a bar never goes back
    transitions.start_part(video, part_id, "w1", 6.0)
    assert transitions.requeue_part(video, part_id, REASON, 7.0, max_attempts=2, retry_at=9.0)
    assert entry["state"] == "failed"
    assert entry["error"] == {
        "code": "encoder_stalled",
        "message": "ffmpeg stopped making progress. This happened 2 times, so we stopped trying.",
    }


@pytest.mark.parametrize("max_outages", [1, 2])
def test_storage_outages_give_the_start_back_and_fail_only_after_max_outages(max_outages):
    video = fresh()
    part_id = ids(video, "video")[0]
    entry = states.part(video, part_id)
    outage = {"code": "storage_unreachable", "message": "Storage is out of reach."}
    for n in range(max_outages):
        transitions.start_part(video, part_id, "w1", 2.0)
        assert transitions.requeue_part(
            video, part_id, outage, 3.0, max_attempts=1, outage=True, max_outages=max_outages
        )
        assert (entry["state"], entry["attempts"], entry["outages"]) == ("queued", 0, n + 1)
    transitions.start_part(video, part_id, "w1", 4.0)
    transitions.requeue_part(
        video, part_id, outage, 5.0, max_attempts=1, outage=True, max_outages=max_outages
    )
    assert entry["state"] == "failed" and entry["outages"] == max_outages + 1
    assert entry["error"] == {
        "code": "storage_unreachable",
        "message": "Storage is out of reach. It stayed out of reach, so we stopped trying.",
    }


def test_canceling_ends_every_unfinished_part_and_says_why():
    video = fresh()
    done, running, *_ = ids(video, "video")
    run(video, done)
    transitions.start_part(video, running, "w1", 2.0)
    transitions.report_progress(video, running, 10.0, 5.0, 9.0)
    assert transitions.cancel(video, 3.0)
    assert states.part(video, done)["state"] == "ready"
    assert {p["state"] for p in video["parts"] if p["id"] != done} == {"canceled"}
    assert states.part(video, running)["eta_seconds"] is None
    assert video["state"] == "canceled" and video["finished_at"] == 3.0
    assert video["error"] == {"code": "canceled", "message": "This video was canceled."}
    assert not transitions.cancel(video, 4.0)


def test_a_retried_video_gives_its_failed_parts_a_fresh_budget():
    video = fresh()
    for part_id in ids(video, "audio"):
        run(video, part_id)
    first = ids(video, "video")[0]
    transitions.start_part(video, first, "w1", 2.0)
    states.part(video, first)["outages"] = 3
    transitions.requeue_part(video, first, REASON, 2.5, max_attempts=5, retry_at=3.0)
    transitions.start_part(video, first, "w1", 3.0)
    transitions.fail_part(video, first, REASON, 4.0)
    for part_id in ids(video, "video")[1:]:
        run(video, part_id)
    assert video["state"] == "failed"
    assert transitions.retry_failed(video) == [first]
    entry = states.part(video, first)
    assert {k: entry[k] for k in ("state", "error", "attempts", "outages", "last_error", "retry_at")} == {
        "state": "queued", "error": None, "attempts": 0, "outages": 0, "last_error": None, "retry_at": None,
    }  # fmt: skip
    assert (video["state"], video["error"], video["finished_at"]) == ("processing", None, None)
    assert transitions.retry_failed(video) == []  # only a failed video is retried
