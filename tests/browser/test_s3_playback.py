"""Playback in Chromium when everything lives in an S3 bucket: the web app streams playlists,
segments, previews and MP4 ranges from the bucket, and the browser never talks to it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.processes import start_worker
from tests.support.requests_to_api import upload, wait_terminal
from tests.support.s3 import new_bucket, s3_settings
from tests.support.system import side_system


@pytest.fixture(scope="module")
def s3_system(tmp_path_factory, s3_endpoint):
    settings = s3_settings(s3_endpoint, new_bucket(s3_endpoint))
    with side_system(tmp_path_factory.mktemp("s3web"), database=10, **settings) as side:
        start_worker(side.processes, side.env, "s3worker")
        yield side.url


def test_watch_page_plays_from_the_bucket(s3_system, data_dir, page):
    video = wait_terminal(s3_system, upload(s3_system, data_dir / "bigbuckbunny.mp4").json()["id"])
    assert video["state"] == "ready"
    requests_seen = []
    page.on("request", lambda r: requests_seen.append(r.url))
    page.goto(s3_system + video["watch_url"])
    page.evaluate("() => { const v = document.getElementById('video'); v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.getElementById('video').currentTime > 1", timeout=30_000)
    page.get_by_label("Quality").select_option(label="480p")
    page.wait_for_function("() => window.transcoderPlayer.currentLevel === 3")
    expect(page.locator("#playing-level")).to_have_text("Playing 480p")
    assert any(url.endswith(".m4s") for url in requests_seen)
    elsewhere = [url for url in requests_seen if not url.startswith((s3_system, "data:", "blob:"))]
    assert elsewhere == []

    mp4 = s3_system + video["renditions"][0]["url"]
    ranged = page.request.get(mp4, headers={"Range": "bytes=0-99"})
    assert ranged.status == 206 and len(ranged.body()) == 100 and ranged.body()[4:8] == b"ftyp"
    poster = page.request.get(s3_system + video["poster_url"])
    assert poster.headers["content-type"] == "image/jpeg" and poster.body()[:2] == b"\xff\xd8"
