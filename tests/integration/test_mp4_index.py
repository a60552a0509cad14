"""The join's count of a rendition's pictures, read from the MP4's index, agrees with ffprobe's
count of its packets on every shape of MP4 the join or a user could give it; and a real join
that finds pictures missing fails its video."""

import subprocess
from pathlib import Path

import pytest

from tests.support.clips import ffprobe_json, make_clip
from tests.support.system import REDIS_URL, side_services
from transcoder.errors import StorageError
from transcoder.media.mp4_index import video_frames
from transcoder.records import states
from transcoder.work import actions


def mp4(path: Path, *options: str, frames: int = 75, audio_first: bool = False) -> Path:
    inputs = ["-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25,trim=end_frame={frames}",
              "-f", "lavfi", "-i", "sine=duration=3"]  # fmt: skip
    maps = ["-map", "1:a", "-map", "0:v"] if audio_first else ["-map", "0:v", "-map", "1:a"]
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *inputs, *maps, "-c:v", "libx264", "-preset",
                    "ultrafast", "-c:a", "aac", "-shortest", *options, str(path)], check=True)  # fmt: skip
    return path


@pytest.mark.parametrize(
    ("name", "options", "audio_first"),
    [("faststart", ["-movflags", "+faststart"], False), ("index-last", [], False),
     ("sound-track-first", ["-movflags", "+faststart"], True)],
)  # fmt: skip
def test_the_count_from_the_index_is_ffprobes(tmp_path, name, options, audio_first):
    path = mp4(tmp_path / f"{name}.mp4", *options, audio_first=audio_first)
    counted = ffprobe_json(
        path, "-select_streams", "v:0", "-count_packets", "-show_entries", "stream=nb_read_packets"
    )
    assert video_frames(path) == int(counted["streams"][0]["nb_read_packets"]) == 75


def test_a_file_cut_short_before_its_index_is_refused(tmp_path):
    whole = mp4(tmp_path / "whole.mp4")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(StorageError, match="no index"):
        video_frames(cut)


def test_a_join_that_finds_pictures_missing_fails_its_video(tmp_path):
    """A part's last segment lost on its way to the join (its record no longer names it):
    the joined MP4 holds fewer pictures than the parts encoded, and the real join, counting
    them from the MP4's index, fails the video instead of making it ready."""
    clip = make_clip(tmp_path / "clip.mp4", size="320x180", seconds=9, audio=False)
    with side_services(REDIS_URL.rsplit("/", 1)[0] + "/8", tmp_path / "system") as services:
        with open(clip, "rb") as fh:
            video = actions.accept_upload(services, fh, "clip.mp4", services.users.builtin("local", "admin"))
        pictures = [p["id"] for p in video["parts"] if p["kind"] == "video"]
        for part in pictures:
            actions.run_part(services, video["id"], part, "w1@test")

        def lose_a_segment(stored: states.Video) -> bool:
            written = states.part(stored, pictures[-1])["results"]["renditions"]["144p"]["segments"]
            assert len(written) > 1  # one is left: the join still has pictures to lay end to end
            written.pop()
            return True

        services.videos.update(video["id"], lose_a_segment)
        actions.run_part(services, video["id"], "join", "w1@test")
        ended = services.videos.get(video["id"])
        assert ended["state"] == "failed"
        assert "frames instead of 225" in states.part(ended, "join")["error"]["message"]
