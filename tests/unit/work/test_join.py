"""The join's commands and its safety nets (pure; the join itself runs in the integration tests)."""

from pathlib import Path

import pytest

from tests.unit.records.test_transitions import encode_all, fresh
from transcoder.errors import StorageError
from transcoder.media.commands import TIMELINE_OFFSET_S, join_args, sprite_args
from transcoder.media.policy import DEFAULT_LIMITS
from transcoder.media.previews import StoryboardLayout
from transcoder.records import states
from transcoder.work import join


def test_the_join_copies_pictures_and_sound_into_a_faststart_mp4_without_encoding():
    argv = join_args(Path("/w/144p-video.mp4"), Path("/w/a64.mp4"), Path("/w/out.mp4"), DEFAULT_LIMITS)
    assert argv[0] == "ffmpeg" and "-copyts" in argv
    assert argv[argv.index("-c") + 1] == "copy"
    assert argv[argv.index("-movflags") + 1] == "+faststart"
    assert float(argv[argv.index("-output_ts_offset") + 1]) == -TIMELINE_OFFSET_S
    # Only files we wrote ourselves are read: local files, MP4 (mov) and JPEG tiles only.
    assert argv.count("-protocol_whitelist") == 2 and argv.count("-format_whitelist") == 2
    assert argv[argv.index("-format_whitelist") + 1] == "mov,image2"
    assert "-map" in argv and "0:v:0" in argv and "1:a:0" in argv


def test_a_silent_video_is_joined_with_no_sound_input():
    argv = join_args(Path("/w/v.mp4"), None, Path("/w/out.mp4"), DEFAULT_LIMITS)
    assert argv.count("-i") == 1 and "1:a:0" not in argv


def test_the_sprite_tiles_its_jpegs_in_rows_of_the_plans_columns():
    plan = StoryboardLayout(2.0, 30, 10, 3, 160, 90)
    argv = sprite_args(Path("/w/tiles"), Path("/w/storyboard.jpg"), plan, DEFAULT_LIMITS)
    graph = argv[argv.index("-filter_complex") + 1]
    assert "tile=10x3" in graph and argv[-1] == "/w/storyboard.jpg"


@pytest.mark.parametrize("found", [299, 301, 0])
def test_the_frame_check_refuses_a_rendition_that_lost_or_gained_pictures(found):
    with pytest.raises(StorageError, match="instead of 300"):
        join.check_frame_count(found, 300)


def test_the_frame_check_passes_a_complete_rendition():
    join.check_frame_count(300, 300)


def test_the_frames_expected_are_all_that_the_renditions_parts_encoded():
    video = fresh()
    encode_all(video)
    for part in states.video_parts(video, "144p"):
        part["results"]["encoded_frames"] = part["frames"]
    assert join.expected_frames(video, "144p") == 300


def test_the_join_writes_every_renditions_mp4_and_the_storyboard():
    video = fresh()
    keys = join.outputs(video, states.part(video, "join"))
    assert keys == [f"videos/v1/{r['name']}.mp4" for r in video["renditions"]] + [
        "videos/v1/storyboard.jpg",
        "videos/v1/storyboard.vtt",
    ]
