"""Live progress in Chromium: one connection per page, however many videos it shows."""

import json

import pytest
from playwright.sync_api import expect

from tests.support.clips import make_clip
from tests.support.requests_to_api import upload, wait_terminal


@pytest.fixture(scope="module")
def ten_clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ten")
    return [
        make_clip(folder / f"clip{n:02d}.mp4", size="480x270", seconds=3 + n % 3, audio=n % 2 == 0, crf=30)
        for n in range(10)
    ]


def live_connections(page):
    """Every WebSocket and event stream the page opens, with what each received."""
    opened = {"ws": [], "sse": []}

    def on_socket(ws):
        frames = []
        opened["ws"].append((ws.url, frames))
        ws.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    page.on("request", lambda r: opened["sse"].append(r.url) if "/events" in r.url else None)
    return opened


PAGE_FETCH = """async () => {
  const started = performance.now();
  const reply = await fetch('/api/videos?limit=1');
  await reply.json();
  return [reply.status, performance.now() - started];
}"""


def test_ten_uploads_from_one_page_and_the_library_meanwhile(system, page, ten_clips):
    opened = live_connections(page)
    page.goto(system + "/")
    page.get_by_label("Choose video files").set_input_files([str(p) for p in ten_clips])
    page.get_by_role("button", name="Upload").click()
    cards = page.locator(".video")
    # Ten uploads at once take a while on a slow or busy machine: wait for them, generously.
    expect(cards).to_have_count(10, timeout=120_000)
    expect(page.locator(".video[data-id]")).to_have_count(10, timeout=120_000)  # every upload accepted
    ids = [card.get_attribute("data-id") for card in cards.all()]

    # The library, opened while they encode, answers at once and updates in place.
    library = page.context.new_page()
    library_opened = live_connections(library)
    library.goto(system + "/videos")
    running = library.locator(".item[data-state='queued'], .item[data-state='processing']")
    assert running.count() >= 5, "most of the videos should still be encoding"
    for _ in range(3):
        status, took_ms = library.evaluate(PAGE_FETCH)
        assert status == 200 and took_ms < 1000, took_ms
    for video_id in ids:
        expect(library.locator(f".item[data-id='{video_id}'] .state")).to_have_text("ready", timeout=240_000)
    assert len(library_opened["ws"]) == 1 and library_opened["sse"] == [], library_opened
    library.locator(f".item[data-id='{ids[0]}'] a").click()
    expect(library).to_have_url(f"{system}/videos/{ids[0]}")

    for card in cards.all():
        expect(card.locator(".state")).to_have_text("Ready", timeout=60_000)
        expect(card.get_by_role("link", name="MP4").first).to_be_visible()
    # One connection carried all ten: snapshots while each was worked on, then its end.
    assert len(opened["ws"]) == 1 and opened["sse"] == [], opened
    frames = opened["ws"][0][1]
    for video_id in ids:
        states = [f["state"] for f in frames if f.get("id") == video_id]
        assert states[-1] == "ready" and len(states) >= 2, (video_id, states)
        assert any(s in ("queued", "processing") for s in states), (video_id, states)


def test_watch_page_follows_progress_over_the_websocket(system, page, tmp_path):
    clip = make_clip(tmp_path / "watch.mp4", size="1280x720", seconds=12, audio=True, crf=30)
    video_id = upload(system, clip).json()["id"]
    opened = live_connections(page)
    page.goto(f"{system}/videos/{video_id}")
    expect(page.locator("#downloads li")).to_have_count(4, timeout=120_000)
    [(url, frames)] = opened["ws"]
    assert url.endswith("/api/ws")
    seqs = [f["seq"] for f in frames if f.get("id") == video_id]
    assert len(seqs) >= 2 and seqs == sorted(seqs)
    assert wait_terminal(system, video_id)["seq"] == seqs[-1]
