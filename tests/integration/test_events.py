"""The event stream: a snapshot first, progress that never goes back, and an end."""

import json
import time

import requests

from tests.support.requests_to_api import upload, wait_terminal
from tests.support.system import side_system
from transcoder.client import parse_sse


def read_stream(url, timeout=180):
    events = []
    with requests.get(url, stream=True, timeout=(10, timeout)) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        for event, _, data in parse_sse(response.iter_lines(decode_unicode=True)):
            events.append((event, json.loads(data)))
    return events


def test_stream_of_a_running_video(system, long_clip):
    created = upload(system, long_clip).json()
    events = read_stream(system + created["links"]["events"])

    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "end" and set(kinds[:-1]) == {"video"}
    snapshots = [video for kind, video in events if kind == "video"]
    first, last = snapshots[0], snapshots[-1]
    assert first["id"] == created["id"]
    assert first["state"] in ("queued", "processing")
    assert last["state"] == "ready"
    assert [v["seq"] for v in snapshots] == sorted(set(v["seq"] for v in snapshots))

    for name in [r["name"] for r in last["renditions"]]:
        bars = [r["progress"] for v in snapshots for r in v["renditions"] if r["name"] == name]
        assert bars == sorted(bars), f"{name} went backwards: {bars}"
        assert bars[-1] == 100
        assert any(0 < p < 100 for p in bars), f"{name} never reported progress while running: {bars}"
    running = [r for v in snapshots for r in v["renditions"] if r["state"] == "running" and r["progress"] > 0]
    assert any(r["eta_seconds"] is not None and r["fps"] for r in running)


def test_late_client_gets_the_final_snapshot_and_the_end(system, data_dir):
    video_id = upload(system, data_dir / "bikes.mp4").json()["id"]
    final = wait_terminal(system, video_id)
    events = read_stream(f"{system}/api/videos/{video_id}/events", timeout=30)
    assert [kind for kind, _ in events] == ["video", "end"]
    assert events[0][1] == final


def test_stream_of_unknown_video_is_a_json_404(system):
    response = requests.get(f"{system}/api/videos/{'0' * 32}/events", timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_quiet_stream_sends_keep_alives_at_the_set_interval(tmp_path, data_dir):
    """No worker takes the video, so nothing happens: the stream must still speak every
    TRANSCODER_STREAM_KEEPALIVE seconds (1 here), so proxies do not cut it."""
    with side_system(tmp_path, database=5, stream_keepalive="1") as side:
        video_id = upload(side.url, data_dir / "bikes.mp4").json()["id"]
        seen: list[float] = []
        began = time.monotonic()
        with requests.get(f"{side.url}/api/videos/{video_id}/events", stream=True, timeout=10) as response:
            for line in response.iter_lines(decode_unicode=True):
                if line == ": keep-alive":
                    seen.append(time.monotonic() - began)
                if len(seen) == 3 or time.monotonic() - began > 10:
                    break
        assert len(seen) == 3, seen
        gaps = [b - a for a, b in zip(seen, seen[1:], strict=False)]
        assert all(0.5 <= gap <= 2 for gap in gaps), gaps
