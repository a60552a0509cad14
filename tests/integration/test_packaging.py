"""What operators install is what the tests ran: the wheel carries every file the app serves.

The wheel is built from a copy of the sources (the checkout stays clean), installed into a
fresh virtualenv outside the source tree, and its web app is started from there. Only the
third-party packages are borrowed from the test environment (a path entry, so no network
is needed), never our own: the test checks where ``web`` and ``transcoder`` were loaded from.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
from html.parser import HTMLParser
from pathlib import Path

import pytest
import redis
import requests

from tests.support.processes import ROOT, environment, free_port, wait_for
from tests.support.requests_to_api import upload
from tests.support.system import PACKAGE_SOURCES, REDIS_URL

DATABASE_URL = REDIS_URL.rsplit("/", 1)[0] + "/13"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("package")
    src = work / "src"
    src.mkdir()
    for name in PACKAGE_SOURCES:
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(item, src / name)
    dist = work / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (path,) = dist.glob("transcoder-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel in it; returns its python."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    where = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(subprocess.check_output([str(python), "-c", where], text=True).strip())
    # Third-party packages from the test environment; our own packages there are an editable
    # install, whose import hook lives in a .pth file that a plain path entry does not run.
    (site / "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return python


def test_wheel_holds_every_file_under_templates_and_static(wheel):
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("web/templates", "web/static"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file():
                assert str(path.relative_to(ROOT)) in names, (
                    f"{path.relative_to(ROOT)} is missing from the wheel"
                )


def test_installed_app_loads_from_the_install_and_its_dependencies_are_met(installed, tmp_path):
    code = "import web, transcoder, tasks; print(web.__file__, transcoder.__file__, tasks.__file__)"
    where = subprocess.check_output([str(installed), "-c", code], cwd=tmp_path, text=True).split()
    venv = installed.parent.parent
    for path in where:
        assert Path(path).is_relative_to(venv), f"{path} is not from the installed wheel"
    check = subprocess.run(
        [str(installed), "-m", "pip", "check"], capture_output=True, text=True, cwd=tmp_path
    )
    # The fresh virtualenv has no pip of its own: run the test environment's pip against it.
    if check.returncode != 0 and "No module named pip" in check.stderr:
        check = subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(installed), "check"],
            capture_output=True, text=True, cwd=tmp_path,
        )  # fmt: skip
    assert "transcoder" not in check.stdout, check.stdout


class Assets(HTMLParser):
    """Every script, style sheet and image a page asks the browser to fetch."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("script", "img", "source") and found.get("src"):
            self.urls.append(found["src"])
        if tag == "link" and found.get("href"):
            self.urls.append(found["href"])


def test_every_asset_each_page_references_is_served_by_the_installed_app(
    installed, processes, tmp_path, lavfi_clip
):
    client = redis.Redis.from_url(DATABASE_URL)
    client.flushdb()
    env = environment(DATABASE_URL, tmp_path / "storage")
    port = free_port()
    argv = [str(installed), "-m", "gunicorn", "-c", "python:web.server",
            "--bind", f"127.0.0.1:{port}", "web:create_app()"]  # fmt: skip
    # Started outside the source tree, so nothing can be imported from the checkout.
    proc, log = processes.start("packaged-web", argv, env, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=1).ok
        except requests.RequestException:
            return False

    wait_for(up, 30, "the installed web app's start", proc, log)
    created = upload(url, lavfi_clip)
    assert created.status_code == 201, created.text
    pages = ["/", "/videos", f"/videos/{created.json()['id']}"]
    fetched = set()
    for page in pages:
        reply = requests.get(url + page, timeout=10)
        assert reply.status_code == 200, page
        parser = Assets()
        parser.feed(reply.text)
        local = [u for u in parser.urls if not re.match(r"^(data:|https?://)", u)]
        assert any(u.endswith(".js") for u in local), f"{page} references no script"
        for asset in local:
            got = requests.get(url + asset, timeout=10)
            assert got.status_code == 200, f"{asset} (from {page}) answered {got.status_code}"
            assert got.content, f"{asset} is empty"
            fetched.add(asset)
    assert any("vendor/hls.js/hls.light.min.js" in a for a in fetched)
    assert any("vendor/tus-js-client/tus.min.js" in a for a in fetched)
    client.flushdb()
