"""A part's decode starts at the source keyframe it needs, not one group of pictures earlier,
and still keeps exactly its own frames.

Each later part of a real clip is encoded by its own ffmpeg command, once with ffmpeg's
trace log, which names the sample the demuxer seeked to: it must be the last keyframe at or
before the part's first frame. No workers are needed: the commands are run as a worker runs them.
"""

import subprocess
from pathlib import Path

import pytest

from tests.clips import ffprobe_json
from transcoder.media import commands, frames, planner
from transcoder.media.ladder import renditions_for
from transcoder.media.previews import plan_storyboard
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


def landing_sample(argv: list[str], stream: int) -> int:
    """The sample the demuxer seeked to, from ffmpeg's trace log."""
    traced = list(argv)
    traced[traced.index("-loglevel") + 1] = "trace"
    log = subprocess.run(traced, capture_output=True, text=True, check=True).stderr
    line = next(x for x in log.splitlines() if f"stream {stream}, timestamp" in x and "sample" in x)
    return int(line.rsplit("sample ", 1)[1])


def test_each_part_decodes_from_its_own_keyframe_and_keeps_exactly_its_frames(clip, tmp_path):
    media = probe(clip)
    found = frames.scan(clip, media.video_stream, media.start_time)
    ladder = renditions_for(media.width, media.height)
    parts = planner.plan(found, [r.name for r in ladder], plan_storyboard(media), audio_bitrates=[])
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
