"""HLS, poster and storyboard, checked outside any browser."""

import json
import re
import subprocess

import pytest
import requests

from tests.support.requests_to_api import upload, wait_terminal
from transcoder.media.hls import parse_media_playlist

from .test_events import read_stream


@pytest.fixture(scope="module")
def bunny(system, data_dir):
    return wait_terminal(system, upload(system, data_dir / "bigbuckbunny.mp4").json()["id"])


def master_entries(text):
    assert text.startswith("#EXTM3U\n")
    lines = text.splitlines()
    entries = []
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            attrs = dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line.split(":", 1)[1]))
            entries.append(({k: v.strip('"') for k, v in attrs.items()}, lines[i + 1]))
    return entries


def keyframe_starts(init: bytes, segment: bytes, tmp_path) -> tuple[float, str]:
    """The first video packet of a segment: its time and its flags."""
    path = tmp_path / "one.mp4"
    path.write_bytes(init + segment)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags",
         "-read_intervals", "%+#1", "-of", "json", str(path)],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    first = json.loads(out)["packets"][0]
    return round(float(first["pts_time"]), 3), first["flags"]


def test_hls_playlists_parse_and_renditions_line_up(system, bunny, tmp_path):
    assert bunny["playable"] is True
    base = system + bunny["hls_url"].rsplit("/", 1)[0] + "/"
    master = requests.get(system + bunny["hls_url"], timeout=10)
    assert master.headers["Content-Type"].startswith("application/vnd.apple.mpegurl")
    entries = master_entries(master.text)
    assert [uri for _, uri in entries] == [f"{r['name']}/index.m3u8" for r in bunny["renditions"]]

    starts_by_rendition = {}
    for (attrs, uri), rendition in zip(entries, bunny["renditions"], strict=True):
        assert attrs["RESOLUTION"] == f"{rendition['width']}x{rendition['height']}"
        assert int(attrs["BANDWIDTH"]) >= int(attrs["AVERAGE-BANDWIDTH"]) > 10_000
        assert re.fullmatch(r"avc1\.[0-9a-f]{6},mp4a\.40\.2", attrs["CODECS"])
        folder = base + uri.rsplit("/", 1)[0] + "/"
        segments = parse_media_playlist(requests.get(base + uri, timeout=10).text)
        total = sum(s.duration for s in segments)
        assert abs(total - bunny["source"]["duration"]) <= 0.02 * bunny["source"]["duration"]
        starts = []
        for segment in segments:
            # Each part's segments follow its own init segment (``v00/init.mp4``...).
            init = requests.get(folder + segment.uri.rsplit("/", 1)[0] + "/init.mp4", timeout=10).content
            at, flags = keyframe_starts(
                init, requests.get(folder + segment.uri, timeout=10).content, tmp_path
            )
            assert flags.startswith("K"), f"{uri} {segment.uri} does not start on a keyframe"
            starts.append(at)
        starts_by_rendition[rendition["name"]] = starts
    assert len(set(map(tuple, starts_by_rendition.values()))) == 1, starts_by_rendition
    assert len(next(iter(starts_by_rendition.values()))) >= 2


def test_poster_and_storyboard(system, bunny, tmp_path):
    poster = requests.get(system + bunny["poster_url"], timeout=10)
    assert poster.headers["Content-Type"] == "image/jpeg"
    path = tmp_path / "poster.jpg"
    path.write_bytes(poster.content)
    size = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0",
                           str(path)], check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    assert size == "854,480"

    vtt = requests.get(system + bunny["storyboard_vtt_url"], timeout=10)
    assert vtt.headers["Content-Type"].startswith("text/vtt")
    cues = re.findall(r"(\S+) --> (\S+)\n(storyboard\.jpg)#xywh=(\d+),(\d+),(\d+),(\d+)", vtt.text)
    assert len(cues) == 5
    assert cues[0][:2] == ("00:00:00.000", "00:00:01.000") and cues[-1][1] == "00:00:05.312"
    sprite = requests.get(system + bunny["storyboard_vtt_url"].replace(".vtt", ".jpg"), timeout=10)
    assert sprite.headers["Content-Type"] == "image/jpeg" and sprite.content[:2] == b"\xff\xd8"


def test_playable_while_later_parts_still_encode(system, long_clip):
    created = upload(system, long_clip).json()
    snapshots = [v for kind, v in read_stream(system + created["links"]["events"]) if kind == "video"]
    first_playable = next(v for v in snapshots if v["playable"])
    assert first_playable["hls_url"].endswith("/hls/master.m3u8")
    # Playable once the first part and the sound are done, long before any rendition is finished.
    assert first_playable["state"] == "processing"
    assert all(r["state"] == "running" and r["progress"] < 100 for r in first_playable["renditions"])
    assert not any(v["playable"] for v in snapshots[: snapshots.index(first_playable)])


def test_media_urls_refuse_anything_but_our_files(system, bunny):
    video = f"{system}/api/videos/{bunny['id']}"
    for path in ("/hls/144p/..%2F..%2Fsource", "/hls/144p/source", "/hls/..%2F144p.mp4/index.m3u8",
                 "/hls/999p/index.m3u8", "/source", "/renditions/..%2Fsource.mp4"):  # fmt: skip
        response = requests.get(video + path, timeout=10)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_downloads_are_named_after_the_upload(system, bunny):
    response = requests.get(system + bunny["renditions"][0]["url"] + "?download=1", timeout=10)
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"bigbuckbunny-144p.mp4\"; filename*=UTF-8''bigbuckbunny-144p.mp4"
    )
