"""Whole plans against a reviewed copy (``data/plans.json``), and the planner's small rules.

The tests beside this one say what a plan must do; this one pins every field of every
part for a handful of frame lists, so no change to how videos are cut goes unseen.
After a change you meant, write the copy again and read its diff:

    TRANSCODER_WRITE_GOLDEN=1 .venv/bin/pytest tests/unit/media/test_planner_golden.py
"""

from pathlib import Path

import pytest

from tests.support.golden import assert_matches_golden
from tests.unit.media.test_planner import RENDITIONS, cfr, storyboard
from transcoder.media.frames import Frames
from transcoder.media.planner import Part, chunk_seconds, cut, plan, poster_time

GOLDEN = Path(__file__).parent / "data" / "plans.json"


def vfr(seconds: float) -> Frames:
    """A phone's variable frame rate: 30 fps with a 24 fps stretch, a keyframe every 1 s or so."""
    times, t = [], 0.0
    while t < seconds:
        times.append(round(t, 6))
        t += 1 / 24 if 10 <= t < 20 else 1 / 30
    keys = frozenset(i for i, x in enumerate(times) if i == 0 or int(x) != int(times[i - 1]))
    return Frames(tuple(times), keys)


def plans() -> dict[str, list[dict]]:
    cases = {
        "9.9 s, one part": (cfr(9.9), {}),
        "10 s, chunks": (cfr(10), {}),
        "60 s, keyframes every 8.3 s": (cfr(60, gop=250), {}),
        "61.3 s phone video, keyframes every second": (vfr(61.3), {}),
        "200 s, chunks of 12 s asked for": (cfr(200, gop=60), {"chunk_s": 12.0}),
        "30 s, one part per rendition": (cfr(30), {"shape": "renditions"}),
    }
    out = {}
    for name, (frames, options) in cases.items():
        seconds = int(frames.duration) + 1
        parts = plan(
            frames, RENDITIONS, storyboard(seconds), audio_bitrates=[64, 64, 96, 128],
            poster_at=poster_time(frames.duration), **options,
        )  # fmt: skip
        out[name] = [p.to_dict() for p in parts]
    return out


def test_every_plan_is_the_reviewed_one():
    assert_matches_golden(GOLDEN, plans())


def test_a_part_comes_back_whole_from_its_entry_in_a_document():
    for part in plan(cfr(30), RENDITIONS, storyboard(30), audio_bitrates=[64, 96], poster_at=3.0):
        entry = {**part.to_dict(), "state": "queued", "results": None}
        assert Part.from_dict(entry) == part
        assert entry["rungs"] == list(part.renditions) and "renditions" not in entry


@pytest.mark.parametrize(
    ("duration", "configured", "seconds"),
    [(30, 0, 8.0), (96, 0, 8.0), (120, 0, 12.0), (600, 0, 52.0), (3600, 0, 60.0), (60, 1, 4.0),
     (60, 9.9, 8.0), (60, 10.1, 12.0), (60, 0.5, 4.0)],
)  # fmt: skip
def test_chunks_are_whole_segments_about_a_twelfth_of_the_video_within_bounds(duration, configured, seconds):
    assert chunk_seconds(duration, configured) == seconds


@pytest.mark.parametrize(("duration", "at"), [(1.9, 0.0), (2.0, 0.2), (12.3456, 1.235), (900, 60.0)])
def test_the_poster_is_looked_for_a_tenth_of_the_way_in_at_most_a_minute(duration, at):
    assert poster_time(duration) == at


def test_a_cut_ends_at_the_last_frame_and_covers_every_frame_once():
    frames = cfr(45, gop=75)
    ranges = cut(frames, 8.0)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(frames.times)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
