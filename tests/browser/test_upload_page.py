"""The upload page in a real Chromium: pick a file, watch one bar per rung reach 100 %."""

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]  # fmt: skip


@pytest.fixture
def page(artifacts_dir, request):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        yield page
        page.screenshot(path=str(artifacts_dir / f"{request.node.name}.png"), full_page=True)
        browser.close()


def test_upload_shows_a_bar_per_rung_reaching_100_and_download_links(system, data_dir, page):
    page.goto(system + "/")
    page.get_by_label("Video file").set_input_files(str(data_dir / "bigbuckbunny.mp4"))
    page.get_by_role("button", name="Upload").click()

    bars = page.locator(".rung progress")
    expect(bars).to_have_count(4, timeout=30_000)
    for name in ("144p", "240p", "360p", "480p"):
        bar = page.get_by_label(f"{name} progress")
        expect(bar).to_have_attribute("value", "100", timeout=120_000)
    expect(page.locator(".video .state")).to_have_text("ready 100 %")
    links = page.get_by_role("link", name="Download")
    expect(links).to_have_count(4)
    for href in links.evaluate_all("els => els.map(e => e.href)"):
        response = page.request.get(href)
        assert response.ok and response.headers["content-type"] == "video/mp4"


def test_refused_upload_shows_the_reason(system, page, tmp_path):
    junk = tmp_path / "notes.mp4"
    junk.write_text("this is not a video\n" * 20)
    page.goto(system + "/")
    page.get_by_label("Video file").set_input_files(str(junk))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_have_text("This file is not a video we can read.")
