"""Bad uploads get a JSON error and leave nothing behind."""

import requests

from tests.support.system import recorded


def post(base_url, name, content):
    return requests.post(f"{base_url}/api/videos", files={"file": (name, content)}, timeout=60)


def stored_videos(storage_dir):
    root = storage_dir / "videos"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert len(error["message"]) > 10


def test_text_named_mp4_is_not_a_video(base_url, storage_dir, redis_client):
    before = stored_videos(storage_dir), recorded(storage_dir)
    assert_error(post(base_url, "x.mp4", b"just some text, not a video\n" * 10), 422, "not_a_video")
    assert (stored_videos(storage_dir), recorded(storage_dir)) == before


def test_empty_file(base_url, storage_dir):
    before = stored_videos(storage_dir)
    assert_error(post(base_url, "empty.mp4", b""), 400, "empty_file")
    assert stored_videos(storage_dir) == before


def test_no_file_field(base_url):
    assert_error(requests.post(f"{base_url}/api/videos", data={"other": "x"}, timeout=10), 400, "no_file")


def test_over_the_size_limit(base_url, storage_dir):
    before = stored_videos(storage_dir)
    assert_error(post(base_url, "big.mp4", b"\0" * (21 * 1024 * 1024)), 413, "too_large")
    assert stored_videos(storage_dir) == before


def test_audio_only_file_has_no_video_stream(base_url, tmp_path):
    import subprocess

    audio = tmp_path / "tone.m4a"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=duration=1", str(audio)], check=True
    )
    assert_error(post(base_url, "tone.mp4", audio.read_bytes()), 422, "no_video_stream")


def test_unknown_and_malformed_ids_are_json_404s(base_url):
    for path in (
        f"/api/videos/{'a' * 32}",
        "/api/videos/..%2F..%2Fetc",
        "/api/videos/abc/renditions/144p.mp4",
    ):
        assert_error(requests.get(base_url + path, timeout=10), 404, "not_found")
