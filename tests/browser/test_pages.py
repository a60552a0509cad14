"""The pages in a real Chromium, against the real system: upload, live progress, library, watch."""

import pytest
import requests
from playwright.sync_api import expect

from tests.support.clips import make_clip
from tests.support.processes import wait_for
from tests.support.requests_to_api import upload, wait_terminal

RENDITIONS = ("144p", "240p", "360p", "480p")


def choose_and_upload(page, *paths):
    page.get_by_label("Choose video files").set_input_files([str(p) for p in paths])
    page.get_by_role("button", name="Upload").click()


def test_upload_shows_a_bar_per_rendition_reaching_100_and_download_links(system, data_dir, page):
    page.goto(system + "/")
    choose_and_upload(page, data_dir / "bigbuckbunny.mp4")
    card = page.locator(".video").first
    for name in RENDITIONS:
        expect(card.get_by_label(f"{name} progress")).to_have_attribute("value", "100", timeout=120_000)
    expect(card.locator(".state")).to_have_text("Ready")
    links = card.get_by_role("link", name="MP4")
    expect(links).to_have_count(4)
    for href in links.evaluate_all("els => els.map(e => e.href)"):
        response = page.request.get(href)
        assert response.ok and response.headers["content-type"] == "video/mp4"
    expect(card.get_by_role("link", name="Watch")).to_be_visible()


def test_several_files_at_once_each_get_their_own_card(system, data_dir, page):
    page.goto(system + "/")
    choose_and_upload(page, data_dir / "bikes.mp4", data_dir / "bigbuckbunny.mp4")
    expect(page.locator(".video")).to_have_count(2)
    for card in page.locator(".video").all():
        expect(card.locator(".state")).to_have_text("Ready", timeout=120_000)
    expect(page.locator(".video h2")).to_have_text(["bigbuckbunny.mp4", "bikes.mp4"], ignore_case=False)


def test_bars_reach_100_by_polling_when_event_streams_are_blocked(system, data_dir, page):
    # A browser without WebSockets behind a proxy that refuses event streams.
    page.add_init_script("delete window.WebSocket")
    page.route("**/api/events*", lambda route: route.abort())
    page.goto(system + "/")
    choose_and_upload(page, data_dir / "bikes.mp4")
    expect(page.get_by_role("status").first).to_contain_text("checked every second")
    card = page.locator(".video").first
    for name in ("144p", "240p"):
        expect(card.get_by_label(f"{name} progress")).to_have_attribute("value", "100", timeout=120_000)
    expect(card.locator(".state")).to_have_text("Ready")


MID_ENCODE = """() => {
  const bars = [...document.querySelectorAll(".rendition progress")]
    .filter((b) => b.value > 5 && b.value < 100);
  return bars.length ? [bars[0].getAttribute("aria-label"), bars[0].value] : null;
}"""


def test_reload_mid_encode_shows_current_progress(system, page, tmp_path):
    clip = make_clip(tmp_path / "long.mp4", size="1280x720", seconds=30, audio=True, crf=30)
    page.goto(system + "/")
    choose_and_upload(page, clip)
    label, before = page.wait_for_function(MID_ENCODE, timeout=120_000).json_value()
    page.reload()
    bar = page.get_by_label(label)
    expect(bar).to_be_attached()
    after = float(bar.evaluate("b => b.value"))
    assert after >= before > 5, (label, before, after)
    expect(page.locator(".video").first.locator(".state")).to_have_text("Ready", timeout=180_000)


@pytest.fixture(scope="module")
def bunny(system, data_dir):
    return wait_terminal(system, upload(system, data_dir / "bigbuckbunny.mp4").json()["id"])


def test_watch_plays_with_hls_js_switches_quality_and_shows_the_poster(system, bunny, page):
    page.goto(system + bunny["watch_url"])
    video = page.locator("video#video")
    expect(video).to_have_attribute("poster", bunny["poster_url"])
    assert page.request.get(system + bunny["poster_url"]).headers["content-type"] == "image/jpeg"
    expect(page.get_by_label("Quality").locator("option")).to_have_text(["Auto", *RENDITIONS])

    page.evaluate("() => { const v = document.getElementById('video'); v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.getElementById('video').currentTime > 1", timeout=30_000)
    assert page.evaluate("() => window.transcoderPlayer.media === document.getElementById('video')")

    page.get_by_label("Quality").select_option(label="144p")
    page.wait_for_function("() => window.transcoderPlayer.currentLevel === 0")
    expect(page.locator("#playing-level")).to_have_text("Playing 144p")
    expect(page.get_by_role("link", name="MP4")).to_have_count(4)


def test_storyboard_preview_on_the_seek_bar(system, bunny, page):
    page.goto(system + bunny["watch_url"])
    seek = page.get_by_label("Seek")
    box = seek.bounding_box()
    preview = page.locator("#preview")

    def hovered() -> bool:
        """Over the seek bar, then to 70 % of it: the preview shows once the page has its
        storyboard's cues, which load after the page."""
        page.mouse.move(box["x"] + 1, box["y"] + box["height"] / 2)
        page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2)
        return preview.is_visible()

    wait_for(hovered, 10, "the storyboard preview showing over the seek bar")
    style = preview.locator(".frame").get_attribute("style")
    assert "storyboard.jpg" in style and "-480px 0px" in style  # 70 % of 5.3 s is the 4th tile


def test_library_lists_videos_with_poster_state_and_link(system, bunny, page):
    page.goto(system + "/videos")
    item = page.locator(f".item[data-id='{bunny['id']}']")
    expect(item.locator("img")).to_have_attribute("src", bunny["poster_url"])
    expect(item.locator(".state")).to_have_text("ready")
    item.get_by_role("link").click()
    expect(page).to_have_url(system + bunny["watch_url"])


def test_phone_width_and_keyboard(system, page):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(system + "/")
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_refused_upload_shows_the_reason(system, page, tmp_path):
    junk = tmp_path / "notes.mp4"
    junk.write_text("this is not a video\n" * 20)
    page.goto(system + "/")
    choose_and_upload(page, junk)
    expect(page.locator(".video .sent")).to_have_text("This file is not a video we can read.")


def test_cancel_button_stops_the_video(system, page, tmp_path):
    clip = make_clip(tmp_path / "long.mp4", size="1280x720", seconds=30, audio=True, crf=30)
    page.goto(system + "/")
    choose_and_upload(page, clip)
    card = page.locator(".video").first
    card.get_by_role("button", name="Cancel").click()
    expect(card.locator(".state")).to_have_text("Canceled", timeout=10_000)
    expect(card.get_by_role("button", name="Cancel")).to_have_count(0)


WATCH_STALLS = """() => {
  const v = document.getElementById('video');
  // A stall at a place nothing is buffered, with media further on, is a hole in the
  // timeline (a seam that does not join). Others are a machine too busy: the buffer ran
  // out, or the decoder fell behind with media in hand.
  window.holes = 0; window.slow = 0; window.errors = 0; window.played = false;
  const hole = (t) => {
    const r = v.buffered;
    let inside = false, later = false;
    for (let i = 0; i < r.length; i++) {
      if (r.start(i) <= t + 0.05 && t < r.end(i) - 0.05) inside = true;
      if (r.start(i) > t + 0.05) later = true;
    }
    return !inside && later;
  };
  v.addEventListener('playing', () => { window.played = true; });
  v.addEventListener('waiting', () => {
    if (!window.played || v.ended) return;
    if (hole(v.currentTime)) window.holes += 1; else window.slow += 1;
  });
  v.addEventListener('error', () => { window.errors += 1; });
  v.muted = true;
  return v.play();
}"""


def test_playback_starts_while_later_parts_encode_and_crosses_every_seam(system, page, tmp_path):
    clip = make_clip(tmp_path / "chunked.mp4", size="1280x720", seconds=28, audio=True, crf=30)
    video_id = upload(system, clip).json()["id"]
    api = f"{system}/api/videos/{video_id}"
    wait_for(lambda: requests.get(api, timeout=10).json()["playable"], 60, "playable")
    page.goto(f"{system}/videos/{video_id}")
    page.wait_for_function("() => window.transcoderPlayer && window.transcoderPlayer.levels.length > 0")
    page.evaluate(WATCH_STALLS)
    page.wait_for_function("() => document.getElementById('video').currentTime > 1", timeout=30_000)
    parts = page.request.get(f"{api}/parts").json()["parts"]
    assert any(p["state"] != "ready" for p in parts), "the video was already done: nothing to prove"

    # Once ready, the whole video from the start: every part boundary crossed with no stall.
    wait_terminal(system, video_id)
    seams = [p["start"] for p in parts if p["kind"] == "video" and p["start"] > 0]
    assert len(seams) >= 3
    page.reload()
    page.wait_for_function("() => window.transcoderPlayer && window.transcoderPlayer.levels.length > 0")
    page.evaluate(WATCH_STALLS)
    page.evaluate("() => { document.getElementById('video').playbackRate = 2; }")
    page.wait_for_function("() => document.getElementById('video').ended", timeout=120_000)
    assert page.evaluate("() => [window.holes, window.errors]") == [0, 0]
    ranges = page.evaluate(
        """() => { const v = document.getElementById('video');
                   const all = (r) => Array.from({length: r.length}, (_, i) => [r.start(i), r.end(i)]);
                   return {played: all(v.played), buffered: all(v.buffered)}; }"""
    )
    # One stretch played and one buffered, from the start to past the last seam: no seam
    # left a gap the player jumped or a hole in what it holds.
    (start, end), *more = ranges["played"]
    assert not more and start <= 0.1 and end > seams[-1] + 1, ranges
    assert len(ranges["buffered"]) == 1, ranges


def test_delete_button_asks_first_then_removes_the_video(system, data_dir, page):
    video_id = wait_terminal(system, upload(system, data_dir / "bikes.mp4").json()["id"])["id"]
    page.goto(f"{system}/videos/{video_id}")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Delete this video").click()
    expect(page).to_have_url(f"{system}/videos/{video_id}")
    assert asked and "removed for good" in asked[0]
    assert requests.get(f"{system}/api/videos/{video_id}", timeout=10).ok
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Delete this video").click()
    expect(page).to_have_url(f"{system}/videos")
    expect(page.locator(f".item[data-id='{video_id}']")).to_have_count(0)
    assert requests.get(f"{system}/api/videos/{video_id}", timeout=10).status_code == 404
