"""What a part's one ffmpeg decodes and weighs: no more than the part needs.

Its decode starts at the source keyframe it needs, not one group of pictures earlier, and it
still keeps exactly its own frames: each later part of a real clip is encoded by its own
command with ffmpeg's trace log, which names the sample the demuxer seeked to (the last
keyframe at or before the part's first frame). The poster's search weighs its candidates
once: the thumbnail filter's log names each pick it makes. No workers are needed: the commands
are run as a worker runs them.
"""

import subprocess
from pathlib import Path

import pytest

from tests.support.clips import ffprobe_json
from transcoder.media import commands, frames, planner
from transcoder.media.ladder import renditions_for
from transcoder.media.previews import POSTER_CANDIDATES, lay_out_storyboard
from transcoder.media.probe import probe


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """30 s at 25 fps with B-frames, keyframes at two cuts and then every 10 s."""
    path = tmp_path_factory.mktemp("keyframes") / "film.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=426x240:rate=25:duration=30",
         "-c:v", "libx264", "-preset", "ultrafast", "-bf", "2", "-g", "250",
         "-force_key_frames", "8.4,17.2", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return path


def logged(argv: list[str], level: str) -> str:
    """ffmpeg's log of the command at ``level`` (the command itself logs errors only)."""
    traced = list(argv)
    traced[traced.index("-loglevel") + 1] = level
    return subprocess.run(traced, capture_output=True, text=True, check=True).stderr


def landing_sample(argv: list[str], stream: int) -> int:
    """The sample the demuxer seeked to, from ffmpeg's trace log."""
    log = logged(argv, "trace")
    line = next(x for x in log.splitlines() if f"stream {stream}, timestamp" in x and "sample" in x)
    return int(line.rsplit("sample ", 1)[1])


def test_each_part_decodes_from_its_own_keyframe_and_keeps_exactly_its_frames(clip, tmp_path):
    media = probe(clip)
    found = frames.scan(clip, media.video_stream, media.start_time)
    ladder = renditions_for(media.width, media.height)
    parts = planner.plan(found, [r.name for r in ladder], lay_out_storyboard(media), audio_bitrates=[])
    later = [p for p in parts if p.kind == "video" and p.first > 0]
    on_keyframe = [p for p in later if p.first in found.keyframes]
    assert on_keyframe and len(on_keyframe) < len(later), "the clip gives parts on and off keyframes"
    for part in later:
        folders = {r.name: tmp_path / part.id / r.name for r in ladder}
        for folder in folders.values():
            folder.mkdir(parents=True)
        argv = commands.video_part_args(clip, part, ladder, media, folders)
        assert landing_sample(argv, media.video_stream) == max(k for k in found.keyframes if k <= part.first)
        shown = ffprobe_json(folders[ladder[0].name] / "index.m3u8", "-show_entries", "packet=pts_time")
        times = sorted(float(p["pts_time"]) for p in shown["packets"])
        assert len(times) == part.frames, part.id
        assert times[0] == pytest.approx(part.start + commands.TIMELINE_OFFSET_S, abs=0.002), part.id


def test_the_poster_is_picked_once_from_its_candidates(clip, tmp_path):
    """A part of 12 s holds five batches of candidates after the poster's time; one is weighed."""
    media = probe(clip)
    found = frames.scan(clip, media.video_stream, media.start_time)
    ladder = renditions_for(media.width, media.height)
    part = planner.Part("v00", "video", (ladder[0].name,), 0, 0.0, 300, seconds=12.0, poster_at=1.0)
    folder = tmp_path / ladder[0].name
    folder.mkdir()
    argv = commands.video_part_args(clip, part, ladder[:1], media, {ladder[0].name: folder},
                                    poster=tmp_path / "poster.jpg")  # fmt: skip
    assert len(found.times) >= 300 > 1 + 5 * POSTER_CANDIDATES / 2
    picks = [x for x in logged(argv, "verbose").splitlines() if "selected from a set of" in x]
    assert len(picks) == 1 and (tmp_path / "poster.jpg").stat().st_size > 0
