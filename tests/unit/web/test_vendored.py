"""The scripts the pages load from ``web/static/vendor/`` are the files their READMEs name:
in git (a fresh clone serves them; nothing is fetched from a CDN or built), with their
licenses beside them, and the tus-js-client bundle is the very file of the version named."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
VENDOR = ROOT / "web" / "static" / "vendor"
TEMPLATES = ROOT / "web" / "templates"


def loaded_by_pages() -> set[str]:
    """``vendor/...`` paths the templates load with ``url_for('static', ...)``."""
    found: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        found |= set(re.findall(r"filename='(vendor/[^']+)'", template.read_text()))
    return found


def test_the_upload_page_loads_tus_js_client():
    assert "vendor/tus-js-client/tus.min.js" in loaded_by_pages()


@pytest.mark.parametrize("path", sorted(loaded_by_pages()))
def test_each_vendored_script_is_in_git_with_its_license_and_readme(path):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    folder = Path(path).parent
    listed = subprocess.run(
        ["git", "ls-files", str(Path("web/static") / folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    names = {Path(p).name for p in listed}
    assert {Path(path).name, "LICENSE", "README.md"} <= names, (path, names)


def test_tus_js_client_is_the_file_its_readme_names():
    folder = VENDOR / "tus-js-client"
    readme = (folder / "README.md").read_text()
    version = re.search(r"version \*\*([0-9.]+)\*\*", readme)[1]
    assert f"tus-js-client-{version}.tgz" in readme
    named = re.search(r"`tus\.min\.js`.*?sha256 `([0-9a-f]{64})`", readme, re.S)[1]
    assert hashlib.sha256((folder / "tus.min.js").read_bytes()).hexdigest() == named
    assert "MIT License" in (folder / "LICENSE").read_text()
