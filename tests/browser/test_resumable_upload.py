"""Resumable uploads in Chromium: the upload page sends a 30 MB video with tus-js-client
through a relay between the browser and the web app. The relay is cut half-way and the
page goes on from the server's offset by itself; a page reloaded half-way offers to
resume the same file when it is picked again, and does. Both videos end ``ready``.

The relay paces what it forwards (a few MB/s, like a fair home line), so "half-way"
lasts long enough to be seen; it counts the bytes it forwarded to the web app, which is
how the test knows where the upload is without asking anyone."""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.accounts import signed_in
from tests.support.clips import make_clip
from tests.support.processes import catalog_url, start_worker, wait_for
from tests.support.proxy import Relay, close_both
from tests.support.system import side_system
from transcoder.accounts.users import Users
from transcoder.records.catalog import Catalog
from transcoder.records.database import make_engine

SIZE = 30 * 1000 * 1000
#: What the relay forwards per second: a 30 MB upload takes about 8 s.
RATE = 4 * 1000 * 1000
USERS = {"uploader": "uploader's long password", "other": "other's long password"}


class PacedRelay(Relay):
    """``tests.support.proxy.Relay`` that forwards at most ``rate`` bytes a second per
    connection and counts the bytes it sent upstream (to the web app)."""

    def __init__(self, upstream: tuple[str, int], rate: int) -> None:
        self.rate, self.sent_up = rate, 0
        self.counting = threading.Lock()
        super().__init__(upstream, bind="127.0.0.1")

    def _forward(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        began, moved = time.monotonic(), 0
        try:
            while data := src.recv(65536):
                dst.sendall(data)
                moved += len(data)
                if up:
                    with self.counting:
                        self.sent_up += len(data)
                # Pacing, as a slow line would: not a wait for anything.
                ahead = moved / self.rate - (time.monotonic() - began)
                if ahead > 0:
                    time.sleep(ahead)
        except OSError:
            pass
        finally:
            close_both(src, dst)


@pytest.fixture(scope="module")
def resumable(tmp_path_factory):
    """A web app with accounts and room for 30 MB uploads, its worker, and a relay in front."""
    root = tmp_path_factory.mktemp("resumable")
    with side_system(root, database=14, auth="on", max_upload_bytes=str(64 * 1024 * 1024)) as side:
        catalog = Catalog(make_engine(catalog_url(root / "storage")))
        users = Users(catalog)
        for name, password in USERS.items():
            users.add(name, password)
        start_worker(side.processes, side.env, "resumable-w", "--without-gossip", "--without-mingle")
        port = int(side.url.rsplit(":", 1)[1])
        relay = PacedRelay(("127.0.0.1", port), RATE)
        side.relay = relay
        side.relay_url = f"http://127.0.0.1:{relay.port}"
        yield side
        relay.down()
        catalog.engine.dispose()


def padded_video(folder: Path, name: str, size: int) -> Path:
    """A real clip grown to ``size`` bytes by a top-level ``free`` box after its boxes (which
    every MP4 reader skips): a video the service accepts, as big as the test needs, made in
    a second. Each call's padding differs, so no two files are the same bytes."""
    clip = make_clip(folder / f"{name}.clip.mp4", size="640x360", seconds=4, audio=True)
    body = clip.read_bytes()
    pad = size - len(body) - 8
    path = folder / name
    with path.open("wb") as out:
        out.write(body)
        out.write(pad.to_bytes(4, "big") + b"free")
        chunk = (name.encode() * ((1 << 20) // len(name) + 1))[: 1 << 20]
        for start in range(0, pad, len(chunk)):
            out.write(chunk[: min(len(chunk), pad - start)])
    assert path.stat().st_size == size
    return path


def sign_in(page, url: str, name: str) -> None:
    page.goto(url + "/")
    expect(page).to_have_url(re.compile(r"/signin\?next="))
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(USERS[name])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Upload videos")).to_be_visible()


def choose_and_upload(page, path: Path) -> None:
    page.get_by_label("Choose video files").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()


class Seen:
    """The tus requests the page sent, in order: (method, path, Upload-Offset)."""

    def __init__(self, page) -> None:
        self.requests: list[tuple[str, str, int | None]] = []
        page.on("request", self._add)

    def _add(self, request) -> None:
        path = "/" + request.url.split("/", 3)[3]
        if path.startswith("/api/uploads/"):
            offset = request.headers.get("upload-offset")
            self.requests.append((request.method, path, int(offset) if offset else None))

    def patches(self) -> list[int]:
        return [offset for method, _, offset in self.requests if method == "PATCH" and offset is not None]

    def creations(self) -> int:
        return sum(1 for method, path, _ in self.requests if method == "POST" and path == "/api/uploads/")


def stored_upload_url(page) -> str:
    """The upload URL tus-js-client keeps in the page's localStorage (one upload at a time)."""
    urls = page.evaluate(
        """() => Object.keys(localStorage).filter((k) => k.startsWith("tus::"))
                   .map((k) => JSON.parse(localStorage.getItem(k)).uploadUrl)"""
    )
    assert len(urls) == 1, urls
    return urls[0]


def server_offset(side, url: str, enough) -> int:
    """The upload's offset as the server records it, once ``enough(offset)``."""
    uploader = signed_in(side.url, "uploader", USERS["uploader"])
    direct = side.url + "/" + url.split("/", 3)[3]

    def offset() -> int | None:
        found = uploader.get(direct, timeout=10).json()["offset"]
        return found if enough(found) else None

    return wait_for(offset, 30, f"the server's offset of {direct}")


def ready_video(side, name: str, card) -> dict:
    expect(card.locator(".state")).to_have_text("Ready", timeout=180_000)
    video_id = card.get_attribute("data-id")
    video = signed_in(side.url, name, USERS[name]).get(f"{side.url}/api/videos/{video_id}", timeout=10).json()
    assert video["state"] == "ready", video
    return video


def test_a_dropped_connection_resumes_by_itself_and_the_video_ends_ready(
    resumable, page, tmp_path, artifacts_dir
):
    side, relay = resumable, resumable.relay
    path = padded_video(tmp_path, "dropped.mp4", SIZE)
    seen = Seen(page)
    sign_in(page, side.relay_url, "uploader")
    before = relay.sent_up
    choose_and_upload(page, path)
    card = page.locator(".video").first
    sent = card.locator(".sent")
    # The bar says how fast and how long, while the bytes go.
    expect(sent).to_contain_text(re.compile(r"\d+ % of 30\.0 MB sent · [\d.]+ MB/s · .+ left"))

    wait_for(lambda: relay.sent_up - before > SIZE / 2, 60, "half of the upload through the relay")
    relay.down()
    cut_at = relay.sent_up - before
    expect(sent).to_have_text("Connection lost: trying again…")
    page.screenshot(path=str(artifacts_dir / "resumable-connection-lost.png"))
    relay.up()

    video = ready_video(side, "uploader", card)
    assert seen.creations() == 1, seen.requests
    offsets = seen.patches()
    assert len(offsets) >= 2 and offsets[0] == 0, offsets
    # Went on from what the server kept, not from the start.
    assert offsets[-1] > SIZE / 4, (offsets, cut_at)
    assert not any(k.startswith("tus::") for k in page.evaluate("Object.keys(localStorage)"))
    assert video["filename"] == "dropped.mp4"


def test_a_reloaded_page_offers_to_resume_the_same_file_and_does(resumable, page, tmp_path):
    side, relay = resumable, resumable.relay
    path = padded_video(tmp_path, "reloaded.mp4", SIZE)
    sign_in(page, side.relay_url, "uploader")
    before = relay.sent_up
    choose_and_upload(page, path)
    wait_for(lambda: relay.sent_up - before > SIZE * 0.4, 60, "40 % of the upload through the relay")
    url = stored_upload_url(page)
    page.reload()
    # The server keeps what arrived of the cut request (once it sees the cut).
    kept = server_offset(side, url, lambda offset: offset > 0)

    unfinished = page.get_by_role("region", name="Unfinished uploads")
    expect(unfinished).to_contain_text("reloaded.mp4 (30.0 MB)")
    seen = Seen(page)
    choose_and_upload(page, path)
    card = page.locator(".video").first
    expect(card.locator(".offer")).to_have_text(re.compile(r"An upload of this file stopped at [1-9]\d? %\."))
    card.get_by_role("button", name="Resume upload").click()

    video = ready_video(side, "uploader", card)
    assert seen.creations() == 0, seen.requests
    assert any(method == "HEAD" for method, _, _ in seen.requests), seen.requests
    offsets = seen.patches()
    assert offsets and offsets[0] >= kept > SIZE / 4, (offsets, kept)
    expect(unfinished).to_be_hidden()
    assert video["filename"] == "reloaded.mp4"


def test_another_user_on_the_same_browser_is_not_offered_the_upload(resumable, page, tmp_path):
    side, relay = resumable, resumable.relay
    path = padded_video(tmp_path, "theirs.mp4", SIZE)
    sign_in(page, side.relay_url, "uploader")
    before = relay.sent_up
    choose_and_upload(page, path)
    wait_for(lambda: relay.sent_up - before > SIZE * 0.2, 60, "a fifth of the upload through the relay")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, side.relay_url, "other")
    expect(page.get_by_role("region", name="Unfinished uploads")).to_be_hidden()
    seen = Seen(page)
    choose_and_upload(page, path)
    card = page.locator(".video").first
    expect(card.locator(".sent")).to_contain_text("% of 30.0 MB sent")
    expect(card.locator(".offer")).to_have_count(0)
    assert seen.creations() == 1, seen.requests


def test_a_refused_file_shows_the_servers_message(resumable, page, tmp_path):
    side = resumable
    path = tmp_path / "notes.mp4"
    path.write_bytes(b"these are not the pictures you are looking for\n" * 2000)
    sign_in(page, side.relay_url, "uploader")
    choose_and_upload(page, path)
    sent = page.locator(".video").first.locator(".sent")
    expect(sent).to_have_class(re.compile("failed"))
    refused = signed_in(side.url, "uploader", USERS["uploader"]).post(
        f"{side.url}/api/videos", files={"file": ("notes.mp4", path.read_bytes())}, timeout=30
    )
    assert refused.status_code >= 400
    expect(sent).to_have_text(refused.json()["error"]["message"])
    assert not any(k.startswith("tus::") for k in page.evaluate("Object.keys(localStorage)"))


def test_a_lost_answer_to_the_last_patch_still_finds_the_video(resumable, page, lavfi_clip):
    """The last PATCH reaches the server but its answer (with X-Video-Id) is lost: the retry's
    HEAD finds every byte there. Our HEAD names the video too; without it (taken off here,
    as another tus server would answer) the page asks the upload's record (GET) for it."""
    side = resumable
    lost = []

    def lose_the_first_patch_answer(route) -> None:
        if route.request.method == "PATCH" and not lost:
            lost.append(route.fetch().headers.get("x-video-id"))
            route.abort("connectionreset")
        elif route.request.method == "HEAD":
            answer = route.fetch()
            headers = {k: v for k, v in answer.headers.items() if k.lower() != "x-video-id"}
            route.fulfill(response=answer, headers=headers)
        else:
            route.continue_()

    sign_in(page, side.relay_url, "uploader")
    page.route("**/api/uploads/*", lose_the_first_patch_answer)
    seen = Seen(page)
    choose_and_upload(page, lavfi_clip)
    card = page.locator(".video").first
    video = ready_video(side, "uploader", card)
    assert lost and lost[0] == video["id"], (lost, video["id"])
    methods = [method for method, _, _ in seen.requests]
    assert methods[:3] == ["POST", "PATCH", "HEAD"] and "GET" in methods[3:], seen.requests
    assert methods.count("PATCH") == 1, seen.requests


def test_an_unfinished_upload_the_server_no_longer_has_is_forgotten(resumable, page, tmp_path):
    side, relay = resumable, resumable.relay
    path = padded_video(tmp_path, "deleted.mp4", SIZE)
    sign_in(page, side.relay_url, "uploader")
    before = relay.sent_up
    choose_and_upload(page, path)
    wait_for(lambda: relay.sent_up - before > SIZE * 0.2, 60, "a fifth of the upload through the relay")
    url = stored_upload_url(page)
    page.reload()
    unfinished = page.get_by_role("region", name="Unfinished uploads")
    expect(unfinished).to_contain_text("deleted.mp4")

    uploader = signed_in(side.url, "uploader", USERS["uploader"])
    direct = side.url + "/" + url.split("/", 3)[3]
    # 423 while the server still holds the cut request's lock.
    tus = {"Tus-Resumable": "1.0.0"}

    def deleted() -> bool:
        return uploader.delete(direct, headers=tus, timeout=10).status_code == 204

    wait_for(deleted, 30, "the upload deleted")
    page.reload()
    expect(unfinished).to_be_hidden()
    assert not any(k.startswith("tus::") for k in page.evaluate("Object.keys(localStorage)"))
