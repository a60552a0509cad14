"""The reference pages name everything a user or operator can set or ask for: every
``TRANSCODER_*`` variable the code reads is in docs/settings.md (those only the suites and
the bench read, in docs/testing.md or docs/performance.md), and every route of the app's URL
map is in docs/api.md; every link between the pages lands. A setting or a route added
without its line fails here, not in a reader's hands."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from transcoder.settings import PREFIX, RENAMED, Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: A variable's whole name (a name inside a longer one, such as SECRET_KEY in
#: SECRET_KEY_FILE, is not that name).
NAME = re.compile(r"\bTRANSCODER_[A-Z0-9_]*[A-Z0-9]\b")
#: Where the service reads its variables: its packages, and the scripts `make run` starts.
SERVICE_SOURCES = ("transcoder", "tasks", "web", "infra")
#: A request as docs/api.md writes it: `GET /api/videos/<id>`, its query and body left out.
REQUEST = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s?]*)")
#: A rule's converter that takes only named values, as Werkzeug writes it: <any(a, b):name>.
ANY = re.compile(r"<any\(([^)]*)\):\w+>")


def names_in(paths: list[Path]) -> set[str]:
    return {name for path in paths for name in NAME.findall(path.read_text(errors="replace"))}


def source_files(*folders: str, suffixes: tuple[str, ...] = (".py", ".sh")) -> list[Path]:
    return [
        p for folder in folders for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in suffixes
    ]


def service_settings() -> set[str]:
    """Every variable the service reads: the fields of Settings (read by name, built from
    the field), their old names, and any other name the code or `make run`'s scripts spell out."""
    from_settings = {PREFIX + f.name.upper() for f in fields(Settings)}
    old_names = {PREFIX + old for old in RENAMED}
    return from_settings | old_names | names_in(source_files(*SERVICE_SOURCES))


def documented(*pages: str) -> set[str]:
    return names_in([DOCS / page for page in pages])


def test_every_setting_the_service_reads_is_in_the_settings_page():
    missing = sorted(service_settings() - documented("settings.md"))
    assert not missing, f"add to docs/settings.md: {missing}"


def test_every_variable_the_suites_and_the_bench_read_is_documented():
    read = names_in(source_files("tests", suffixes=(".py",)) + [ROOT / "Makefile"])
    missing = sorted(read - documented("settings.md", "testing.md", "performance.md"))
    assert not missing, (
        f"add to docs/testing.md (the bench's to docs/performance.md, the service's to docs/settings.md): "
        f"{missing}"
    )


def test_the_settings_page_names_only_settings_that_exist():
    gone = sorted(documented("settings.md") - service_settings())
    assert not gone, f"docs/settings.md names settings the code no longer reads: {gone}"


def shapes(path: str) -> set[str]:
    """A path with every parameter written `<>`, a rule's `any(...)` as each of its values."""
    choices = ANY.search(path)
    if choices:
        return set().union(
            *(shapes(path.replace(choices.group(0), c.strip(), 1)) for c in choices.group(1).split(","))
        )
    return {re.sub(r"<[^<>]*>", "<>", path)}


def documented_requests() -> set[tuple[str, str]]:
    text = (DOCS / "api.md").read_text()
    return {(method, shape) for method, path in REQUEST.findall(text) for shape in shapes(path)}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app as `make run` builds it, on a catalog of its own; Redis is never reached (a
    start tolerates that), so no service is needed to read its URL map."""
    from web import create_app

    folder = tmp_path_factory.mktemp("app")
    settings = Settings(
        redis_url="redis://127.0.0.1:1/0",
        database_url=f"sqlite:///{folder}/catalog.db",
        storage_dir=folder / "storage",
        scratch_dir=folder / "scratch",
        secret_key="not-a-secret: the URL map is all this app is for",
    )
    return create_app(settings)


def app_requests(app) -> set[tuple[str, str]]:
    return {
        (method, shape)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
        for shape in shapes(rule.rule)
    }


def test_every_route_of_the_app_is_in_the_api_reference(app):
    routes = app_requests(app)
    assert ("POST", "/api/videos") in routes and ("GET", "/api/ws") in routes
    missing = sorted(routes - documented_requests())
    assert not missing, f"add to docs/api.md: {missing}"


def test_the_api_reference_names_only_routes_that_exist(app):
    gone = sorted(documented_requests() - app_requests(app))
    assert not gone, f"docs/api.md names requests the app does not answer: {gone}"


def heading_anchors(page: Path) -> set[str]:
    """The anchors GitHub makes of a page's headings: lower case, punctuation dropped,
    spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_every_link_between_the_pages_lands_on_a_page_and_a_heading():
    """The reference is spread over pages that link each other; a page renamed or a heading
    reworded must not leave a reader on a dead link."""
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted(DOCS.glob("*.md"))]
    dead = []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists() or (anchor and dest.suffix == ".md" and anchor not in heading_anchors(dest)):
                dead.append(f"{page.relative_to(ROOT)}: {target}")
    assert not dead, dead


#: A file of ours as the pages name it: `web/auth/csrf.py`, `tests/support/processes.py`, or a test
#: named from its suite's folder (`integration/test_door.py::test_...`).
OURS = r"(?:transcoder|web|tasks|tests|infra)/[\w./-]+\.(?:py|sh)"
SUITES = r"(?:unit|integration|browser|faults|inputs|mutants)/[\w./-]+\.py"
CODE_PATH = re.compile(rf"`({OURS}|{SUITES})(?:::\w+)?`")


def code_paths(text: str) -> set[str]:
    return {
        p if p.split("/")[0] in SERVICE_SOURCES + ("tests",) else f"tests/{p}"
        for p in CODE_PATH.findall(text)
    }


def test_every_file_the_pages_name_exists():
    """A module moved or renamed leaves no page sending its reader to where it was."""
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted(DOCS.glob("*.md"))]
    named = {(page.name, p) for page in pages for p in code_paths(page.read_text())}
    assert len(named) > 50
    assert sorted(f"{page}: {p}" for page, p in named if not (ROOT / p).exists()) == []


def test_a_file_named_where_it_no_longer_is_is_found():
    assert code_paths("see `web/security.py` and `integration/test_door.py::test_x`") == {
        "web/security.py",
        "tests/integration/test_door.py",
    }
