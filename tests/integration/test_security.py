"""Cross-site posts, security headers, file names and paths that try to escape (accounts, keys
and sessions: test_accounts)."""

import socket

import pytest
import requests

from tests.support.clips import make_clip
from tests.support.processes import wait_for
from tests.support.requests_to_api import send_half_an_upload, upload, uploads_answered, wait_terminal
from tests.support.system import recorded


def post_video(url, data_dir, **kwargs):
    with open(data_dir / "bikes.mp4", "rb") as fh:
        return requests.post(f"{url}/api/videos", files={"file": ("bikes.mp4", fh)}, timeout=60, **kwargs)


@pytest.mark.parametrize("server", ["base_url", "accounts_url"])
def test_cross_origin_posts_are_refused(server, request, data_dir, storage_dir):
    url = request.getfixturevalue(server)
    before = recorded(storage_dir)
    headers = {"Origin": "http://evil.example"}
    response = post_video(url, data_dir, headers=headers)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert recorded(storage_dir) == before


def test_security_headers_on_pages_and_api(base_url):
    for path in ("/", "/videos", "/api/videos", "/static/app.css", "/api/videos/nope"):
        headers = requests.get(base_url + path, timeout=10).headers
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        # A user's pages and data are kept by no cache; static files say how they may be.
        assert ("no-store" in headers.get("Cache-Control", "")) is (not path.startswith("/static/")), path
    # Event streams keep their own: no-cache, which proxies need to pass them on.
    with requests.get(base_url + "/api/events", stream=True, timeout=10) as stream:
        assert stream.headers["Cache-Control"] == "no-cache"


def test_a_search_holding_a_control_character_is_refused(base_url):
    """A NUL in q matched every video; any control character is refused."""
    for q in ("\x00", "a\x00", "\n", "bikes\x1f", "\x7f", "\x85"):
        reply = requests.get(f"{base_url}/api/videos", params={"q": q}, timeout=10)
        assert reply.status_code == 400 and reply.json()["error"]["code"] == "bad_filter", repr(q)
        assert requests.get(f"{base_url}/videos", params={"q": q}, timeout=10).status_code == 400, repr(q)
    assert requests.get(f"{base_url}/api/videos", params={"q": "bikes é"}, timeout=10).status_code == 200


NAMES = [
    ("../../etc/passwd.mp4", "passwd.mp4"),
    ("C:\\\\Windows\\\\evil.mp4", "evil.mp4"),
    ("film\u202e4pm.exe", "film4pm.exe"),
    ("日本語の動画 🎬.mp4", "日本語の動画 🎬.mp4"),
    ("<script>alert(1)</script>.mp4", "script>.mp4"),
    ("<img src=x onerror=alert(1)>.mp4", "<img src=x onerror=alert(1)>.mp4"),
    ("x" * 1000 + ".mp4", "x" * 255),
    ("concat:a.mp4|b.mp4", "concat:a.mp4|b.mp4"),
    ("-y.mp4", "-y.mp4"),
]


@pytest.fixture(scope="module")
def named(system, tmp_path_factory) -> dict[str, str]:
    """One short clip uploaded under every name at once, so the workers take them side by side:
    each name's video id."""
    clip = make_clip(tmp_path_factory.mktemp("named") / "clip.mp4", size="320x180", seconds=2, audio=True)
    ids = {}
    for sent, _ in NAMES:
        created = upload(system, clip, name=sent)
        assert created.status_code == 201, created.text
        ids[sent] = created.json()["id"]
    return ids


@pytest.mark.parametrize("sent,kept", NAMES, ids=range(len(NAMES)))
def test_file_names_are_only_escaped_metadata(system, named, storage_dir, sent, kept):
    video = wait_terminal(system, named[sent])
    assert video["state"] == "ready" and video["filename"] == kept
    assert sorted(p.name for p in storage_dir.iterdir()) == ["videos"]
    download = requests.get(system + video["renditions"][0]["url"] + "?download=1", timeout=10)
    disposition = download.headers["Content-Disposition"]
    assert "no-store" not in download.headers["Cache-Control"]  # media files say how they are kept
    assert disposition.startswith('attachment; filename="') and "filename*=UTF-8''" in disposition
    assert "\n" not in disposition and disposition.count('"') == 2
    library = requests.get(system + "/videos", timeout=10).text
    assert "<img src=x" not in library and "<script>alert" not in library


TRAVERSALS = [
    "/videos/..%2F..%2Fetc%2Fpasswd",
    "/videos/../../etc/passwd",
    "/api/videos/..%2F..%2Fetc%2Fpasswd",
    "/api/videos/%2e%2e/events",
    "/api/videos/{id}/renditions/..%2F..%2F..%2Fetc%2Fpasswd.mp4",
    "/api/videos/{id}/hls/..%2F..%2F/index.m3u8",
    "/api/videos/{id}/hls/144p/..%2F..%2Fsource",
    "/api/videos/{id}/hls/144p/%2e%2e%2fsource",
    "/api/videos/{id}/source",
    "/api/videos/{id}/..%2Fsource",
    "/static/..%2F..%2Fpyproject.toml",
    "/static/../../pyproject.toml",
    "/static/%2e%2e/%2e%2e/README.md",
]


def test_no_url_reaches_outside_storage(system, data_dir):
    video_id = wait_terminal(system, upload(system, data_dir / "bikes.mp4").json()["id"])["id"]
    for path in TRAVERSALS:
        response = requests.get(system + path.format(id=video_id), timeout=10)
        assert response.status_code == 404, (path, response.status_code)
        assert b"root:" not in response.content and b"[project]" not in response.content


def test_oversized_upload_is_refused_before_the_body_is_sent(base_url):
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            b"POST /api/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 1000000000\r\n\r\n"
        )
        reply = b""
        while b"too_large" not in reply and (chunk := conn.recv(4096)):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413")
    assert b'"too_large"' in reply


def test_client_that_disconnects_mid_upload_leaves_nothing(base_url, data_dir, storage_dir, processes):
    before = (sorted((storage_dir / "videos").glob("*")), recorded(storage_dir))
    log = processes.logs / "web.log"  # the server at base_url
    answered = uploads_answered(log)
    send_half_an_upload(base_url, data_dir / "bigbuckbunny.mp4")
    wait_for(lambda: uploads_answered(log) > answered, 30, "the server done with the cut-off upload", log=log)
    assert (sorted((storage_dir / "videos").glob("*")), recorded(storage_dir)) == before
