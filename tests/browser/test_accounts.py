"""Accounts in the browser: sign in, upload, watch, see only one's own library; an admin
sees everyone's; signing out ends the live stream of every tab of that session."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from tests.support.accounts import PASSWORDS, signed_in
from tests.support.processes import wait_for


def sign_in(page, url: str, name: str) -> None:
    page.goto(url + "/videos")
    expect(page).to_have_url(re.compile(r"/signin\?next=/videos$"))
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/videos$"))


def streams_open(url: str, kind: str) -> float:
    text = requests.get(url + "/metrics", timeout=10).text
    line = next(
        line for line in text.splitlines() if line.startswith(f'transcoder_streams_open{{kind="{kind}"}}')
    )
    return float(line.split()[-1])


def test_each_uploader_sees_their_own_and_an_admin_sees_all(accounts_url, data_dir, browser):
    bob = signed_in(accounts_url, "bob")
    with open(data_dir / "bikes.mp4", "rb") as fh:
        bobs = bob.post(f"{accounts_url}/api/videos", files={"file": ("bobs-bikes.mp4", fh)}, timeout=60)
    assert bobs.status_code == 201

    alice = browser.new_context(viewport={"width": 1000, "height": 800})
    page = alice.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, accounts_url, "alice")
    page.get_by_role("link", name="Upload", exact=True).click()
    page.get_by_label("Choose video files").set_input_files([str(data_dir / "bikes.mp4")])
    page.get_by_role("button", name="Upload").click()
    card = page.locator(".video").first
    expect(card.locator(".state")).to_have_text("Ready", timeout=120_000)
    card.get_by_role("link", name="Watch").click()
    expect(page.get_by_label("Quality").locator("option")).to_have_text(["Auto", "144p", "240p"])
    page.evaluate("() => { const v = document.getElementById('video'); v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.getElementById('video').currentTime > 1", timeout=30_000)
    assert not [e for e in errors if "Content Security Policy" in e], errors
    page.get_by_role("link", name="Library").click()
    expect(page.locator(".library .title").filter(has_text="bikes.mp4").first).to_be_visible()
    expect(page.locator(".library .title").filter(has_text="bobs-bikes.mp4")).to_have_count(0)
    expect(page.get_by_role("link", name="alice")).to_be_visible()
    alice.close()

    admin = browser.new_context(viewport={"width": 1000, "height": 800})
    page = admin.new_page()
    sign_in(page, accounts_url, "root")
    expect(page.locator(".library .title").filter(has_text="bobs-bikes.mp4")).to_have_count(1)
    expect(page.locator(".library .owner").filter(has_text="alice").first).to_be_visible()
    page.get_by_label("Owner").fill("bob")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".library .owner")).to_have_text(["bob"])
    admin.close()


def test_signing_out_ends_the_live_stream_of_every_tab(accounts_url, data_dir, browser):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    uploading = context.new_page()
    before = streams_open(accounts_url, "ws")
    sign_in(uploading, accounts_url, "alice")
    uploading.get_by_role("link", name="Upload", exact=True).click()
    uploading.get_by_label("Choose video files").set_input_files([str(data_dir / "bikes.mp4")])
    uploading.get_by_role("button", name="Upload").click()  # its progress comes on a WebSocket
    wait_for(lambda: streams_open(accounts_url, "ws") > before, 30, "the upload page's live stream open")
    other = context.new_page()
    other.goto(accounts_url + "/account")
    other.get_by_role("button", name="Sign out").click()
    expect(other).to_have_url(re.compile(r"/signin$"))
    # The first tab's stream ends within a keep-alive interval, and its reconnect is refused.
    wait_for(lambda: streams_open(accounts_url, "ws") <= before, 30, "the stream ended by signing out")
    context.close()
