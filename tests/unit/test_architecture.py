"""docs/architecture.md stays true: every module of the core, ``web/`` and ``tasks/`` is
named in its table of packages, no module it describes is gone, and every file its "Where
do I change…" table sends a reader to exists. (Its diagram is checked against the
layering table by ``test_layering``.)"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
PACKAGES = ("transcoder", "web", "tasks")
#: A module described in a row: its name in backticks, then what it holds in brackets.
DESCRIBED = re.compile(r"`([a-z_0-9]+)` \(")


def rows(text: str, title: str) -> list[list[str]]:
    """The cells of each row of the table under a heading (its header and rule left out)."""
    start = text.index(f"\n## {title}")
    end = text.find("\n## ", start + 1)
    lines = text[start : end if end != -1 else len(text)].splitlines()
    table = [line for line in lines if line.startswith("| ") and not line.startswith("| ---")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in table[1:]]


def named_by_package(text: str) -> dict[str, str]:
    """Each package's row of the map, keyed by its folder (``web/auth/``)."""
    named = {}
    for cells in rows(text, "The packages"):
        folder = re.match(r"`([^`]+)`", cells[0])
        if folder:
            named[folder[1]] = cells[1]
    return named


def modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py") if p.stem != "__init__")


def where(path: Path) -> tuple[str, str]:
    """(the folder whose row must name it, its name); migrations are named ``migrations``."""
    parts = path.relative_to(ROOT).parts
    if "migrations" in parts:
        return "/".join(parts[: parts.index("migrations")]) + "/", "migrations"
    return "/".join(parts[:-1]) + "/", path.stem


def unnamed(text: str) -> list[str]:
    named = named_by_package(text)
    missing = []
    for path in modules():
        folder, name = where(path)
        if f"`{name}`" not in named.get(folder, ""):
            missing.append(f"{path.relative_to(ROOT)} (in the row of `{folder}`)")
    return missing


def test_every_module_is_named_in_the_map():
    assert unnamed(DOC.read_text()) == [], "docs/architecture.md's table of packages does not name these"


def test_the_map_describes_no_module_that_is_gone():
    gone = []
    for folder, row in named_by_package(DOC.read_text()).items():
        if folder.split("/")[0] not in PACKAGES:
            continue
        for name in DESCRIBED.findall(row):
            candidate = ROOT / folder / name
            if not (candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists()):
                gone.append(f"{folder}{name}")
    assert gone == []


def test_every_file_a_reader_is_sent_to_exists():
    sent = [
        path
        for cells in rows(DOC.read_text(), "Where do I change…")
        for path in re.findall(r"`([^`]+)`", cells[1])
        if "/" in path or path.endswith(".py")
    ]
    assert len(sent) > 20
    assert [p for p in sent if not (ROOT / p).exists()] == []


def test_the_check_sees_a_module_left_out():
    text = DOC.read_text()
    assert "`redirects` (where" in text
    assert unnamed(text.replace("`redirects` (where", "(where")) == [
        "web/auth/redirects.py (in the row of `web/auth/`)"
    ]
