"""The document's TypedDicts say what a video's document holds: every key a new video is
written with is declared, and every key declared as always there is written. mypy trusts
these types; this test keeps them true to the JSON that is stored."""

from __future__ import annotations

from typing import Any

from tests.unit.records.test_transitions import STORYBOARD, fresh
from transcoder.errors import ErrorInfo, VideoNotFound
from transcoder.media.previews import StoryboardLayoutDict
from transcoder.media.probe import MediaInfoDict
from transcoder.records import transitions
from transcoder.records.document import PartEntry, Previews, RenditionEntry, Video


def fits(data: dict[str, Any], shape: Any) -> None:
    keys = set(data)
    assert keys - shape.__required_keys__ - shape.__optional_keys__ == set(), f"{shape.__name__}: undeclared"
    assert shape.__required_keys__ - keys == set(), f"{shape.__name__}: declared but not written"


def test_a_new_video_holds_exactly_the_keys_its_types_declare():
    for shape in ("chunks", "renditions"):
        video = fresh(shape)
        fits(video, Video)
        fits(video["source"], MediaInfoDict)
        fits(video["previews"], Previews)
        for rendition in video["renditions"]:
            fits(rendition, RenditionEntry)
        for part in video["parts"]:
            fits(part, PartEntry)


def test_the_keys_added_after_creation_are_declared():
    video = fresh()
    # What an upload adds (``work.actions``), and what a cancel writes.
    video.update({"storyboard_plan": STORYBOARD.to_dict(), "owner": "u1", "owner_name": "ann"})
    assert transitions.cancel(video, 2.0)
    fits(video, Video)
    fits(video["storyboard_plan"], StoryboardLayoutDict)
    fits(video["error"], ErrorInfo)
    fits(VideoNotFound("gone").to_dict(), ErrorInfo)
