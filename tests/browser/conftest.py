import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]  # fmt: skip


#: What a page must show is waited for, never given a fixed few seconds: Playwright's
#: default of 5 s is missed on a slow or busy machine (ten uploads at once, say).
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, artifacts_dir, request):
    """A fresh page; its final state is saved as tests/artifacts/<test>.png."""
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    page.screenshot(path=str(artifacts_dir / f"{request.node.name}.png"), full_page=True)
    context.close()
