"""Upload through the API, let real workers encode, check every output with ffprobe."""

import pytest
import requests

from tests.support.clips import ffprobe_json
from tests.support.requests_to_api import upload, wait_terminal

SHORT_SIDES = {"144p": 144, "240p": 240, "360p": 360, "480p": 480}


def ffprobe(path):
    data = ffprobe_json(path)
    video = [s for s in data["streams"] if s["codec_type"] == "video"]
    audio = [s for s in data["streams"] if s["codec_type"] == "audio"]
    return data["format"], video, audio


@pytest.mark.parametrize(
    "clip,expected_renditions,has_audio",
    [
        ("lavfi", ["144p", "240p", "360p"], True),
        ("bigbuckbunny.mp4", ["144p", "240p", "360p", "480p"], True),
        ("bikes.mp4", ["144p", "240p"], False),
    ],
)
def test_every_rendition_is_right(
    system, data_dir, lavfi_clip, tmp_path, clip, expected_renditions, has_audio
):
    path = lavfi_clip if clip == "lavfi" else data_dir / clip
    source_format, _, _ = ffprobe(path)
    source_duration = float(source_format["duration"])

    created = upload(system, path)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["state"] == "queued"
    assert set(body["links"]) == {"self", "events"}

    video = wait_terminal(system, body["id"])
    assert video["state"] == "ready", video
    assert video["progress"] == 100
    assert video["error"] is None
    assert video["source"]["has_audio"] is has_audio
    assert abs(video["source"]["duration"] - source_duration) < 0.01
    assert [r["name"] for r in video["renditions"]] == expected_renditions

    for rendition in video["renditions"]:
        assert rendition["state"] == "ready" and rendition["progress"] == 100
        response = requests.get(system + rendition["url"], timeout=30)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "video/mp4"
        out = tmp_path / f"{rendition['name']}.mp4"
        out.write_bytes(response.content)

        fmt, video_streams, audio_streams = ffprobe(out)
        [v] = video_streams
        assert v["codec_name"] == "h264"
        assert v["pix_fmt"] == "yuv420p"
        assert v["width"] % 2 == 0 and v["height"] % 2 == 0
        assert (v["width"], v["height"]) == (rendition["width"], rendition["height"])
        assert min(v["width"], v["height"]) == SHORT_SIDES[rendition["name"]]
        assert abs(float(fmt["duration"]) - source_duration) <= 0.02 * source_duration
        assert len(audio_streams) == (1 if has_audio else 0)
        if has_audio:
            assert audio_streams[0]["codec_name"] == "aac"
            assert audio_streams[0]["channels"] == 2


def test_downloads_support_byte_ranges(system, data_dir):
    video = wait_terminal(system, upload(system, data_dir / "bikes.mp4").json()["id"])
    url = system + video["renditions"][0]["url"]
    whole = requests.get(url, timeout=30).content
    part = requests.get(url, headers={"Range": "bytes=100-199"}, timeout=30)
    assert part.status_code == 206
    assert part.content == whole[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"


def test_outputs_are_fast_start(system, data_dir):
    """The index (moov) comes before the media (mdat), so a browser can play while downloading."""
    video = wait_terminal(system, upload(system, data_dir / "bikes.mp4").json()["id"])
    head = requests.get(system + video["renditions"][0]["url"], timeout=30).content[:200_000]
    assert 0 < head.find(b"moov") < head.find(b"mdat")


def test_recent_videos_are_listed_newest_first(system, data_dir):
    first = upload(system, data_dir / "bikes.mp4").json()["id"]
    second = upload(system, data_dir / "bikes.mp4").json()["id"]
    listed = [v["id"] for v in requests.get(f"{system}/api/videos", timeout=10).json()["videos"]]
    assert listed.index(second) < listed.index(first)
    wait_terminal(system, first)
    wait_terminal(system, second)
