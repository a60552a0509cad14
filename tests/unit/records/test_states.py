"""The words of a video's state, and finding its parts (pure)."""

import pytest

from tests.unit.records.test_transitions import fresh
from transcoder.errors import VideoNotFound
from transcoder.records import states


def test_states_compare_bare_with_the_words_in_documents():
    assert states.VideoState.READY == "ready" and states.PartState.RUNNING == "running"
    assert states.TERMINAL == {"ready", "failed", "canceled"} == states.PART_TERMINAL


def test_parts_and_renditions_are_found_by_name_or_named_as_missing():
    video = fresh()
    assert states.part(video, "join")["kind"] == "join"
    assert states.rendition(video, "240p")["name"] == "240p"
    with pytest.raises(VideoNotFound, match="Video v1 has no part 'v99'."):
        states.part(video, "v99")
    with pytest.raises(VideoNotFound, match="Video v1 has no 1080p rendition."):
        states.rendition(video, "1080p")


def test_picture_parts_come_in_time_order_and_the_sound_by_bitrate():
    video = fresh()
    video["parts"].reverse()
    pictures = states.video_parts(video)
    assert [p["start"] for p in pictures] == sorted(p["start"] for p in pictures) and len(pictures) == 2
    assert states.video_parts(video, "144p") == pictures
    assert states.video_parts(video, "1080p") == []
    assert states.sound_of(video, 64)["id"] == "a64"
    assert states.sound_of(video, 96) is None


def test_what_the_catalog_keeps_changes_with_states_not_progress():
    video = fresh()
    before = states.milestone(video)
    video["parts"][0]["progress"] = 50.0
    assert states.milestone(video) == before
    video["parts"][0]["state"] = "running"
    assert states.milestone(video) != before and states.milestone(video)[0] == "queued"
