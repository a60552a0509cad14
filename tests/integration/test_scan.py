"""The frame list read from a real file with ffprobe (the side of ``transcoder.media.frames``
that runs something)."""

import subprocess

import pytest

from transcoder.errors import InvalidInput
from transcoder.media.frames import scan


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("scan") / "gop10.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=2",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-bf", "2", str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_every_frame_and_keyframe_is_read_in_presentation_order(clip):
    frames = scan(clip, 0, start_time=0.0)
    assert len(frames.times) == 50
    assert frames.times == tuple(sorted(frames.times))
    assert frames.times[0] == 0.0 and frames.times[1] == pytest.approx(0.04)
    assert sorted(frames.keyframes) == [0, 10, 20, 30, 40]
    assert frames.duration == pytest.approx(2.0)


def test_times_are_from_the_files_start(clip):
    assert scan(clip, 0, start_time=0.5).times[0] == -0.5


def test_a_file_that_is_no_video_is_refused_with_a_reason(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 10)
    with pytest.raises(InvalidInput) as refused:
        scan(text, 0, start_time=0.0)
    assert refused.value.code == "not_a_video"


def test_a_scan_that_takes_too_long_is_refused_as_damaged(clip):
    with pytest.raises(InvalidInput, match="Reading this file took too long; it may be damaged.") as refused:
        scan(clip, 0, start_time=0.0, timeout=0.0001)
    assert refused.value.code == "not_a_video"
