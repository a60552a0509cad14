"""The house keeps its plan: which part of the code may import which, no cycles, no private
names used outside their module.

The core (``transcoder``) imports no Flask, Celery, ``web`` or ``tasks``. Inside it, each
subpackage may import only what ``ALLOWED`` names (its ``__init__`` says the same in words);
so may each part of the callers: the web app's packages and modules (``web.auth``,
``web.ops``, and ``web`` for its factory) and each module of ``tasks``.

``docs/architecture.md``'s diagram is drawn from this table (``mermaid()``): change one
and not the other and ``test_the_documented_diagram_is_the_table`` fails; run
``python -m tests.unit.test_layering`` to draw it again.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "transcoder"
PACKAGES = ("transcoder", "web", "tasks")
FORBIDDEN = {"flask", "werkzeug", "celery", "kombu", "web", "tasks"}
ARCHITECTURE = ROOT / "docs" / "architecture.md"

#: Who may import whom ("errors" is everyone's; a part may always import itself). In the
#: core a part is a subpackage or a top-level module; in the callers, ``web.<package or
#: module>``, ``web`` (its ``__init__``, the factory), ``tasks.<module>`` and ``tasks``.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "media": {"errors"},
    "settings": {"errors", "media", "records"},
    "records": {"errors", "media"},
    "storage": {"errors"},
    "live": {"errors", "records"},
    "ops": {"errors", "records", "settings"},
    "brokers": {"errors", "records", "settings"},
    "accounts": {"errors", "records", "settings"},
    "services": {"accounts", "errors", "records", "settings", "storage"},
    "work": {"accounts", "errors", "media", "ops", "records", "services", "settings", "storage"},
    "uploads": {"accounts", "errors", "media", "ops", "records", "services", "settings", "storage", "work"},
    "client": {"errors"},
    "upload_urls": set(),
    "tus_client": {"client", "errors", "upload_urls"},
    "cli": {
        "accounts",
        "brokers",
        "client",
        "errors",
        "ops",
        "records",
        "services",
        "settings",
        "tus_client",
        "upload_urls",
    },
    "__init__": set(),
    # tasks/: the Celery app and its tasks; nothing of web/.
    "tasks": {"tasks.celery"},
    "tasks.sqs_transport": {"errors"},
    "tasks.config": {"brokers", "records", "settings"},
    "tasks.celery": {
        "brokers",
        "errors",
        "records",
        "services",
        "settings",
        "work",
        "tasks.config",
        "tasks.sqs_transport",
    },
    "tasks.workflow": {"brokers", "records", "tasks.config"},
    "tasks.transcode": {"errors", "work", "tasks.celery", "tasks.config", "tasks.workflow"},
    "tasks.sweeper": {"services", "storage", "uploads", "work", "tasks.celery", "tasks.workflow"},
    # web/: the Flask app. Its packages import downwards only: live > videos > auth >
    # middleware; the factory (``web``) imports them all and nothing imports it.
    "web": {
        "settings",
        "web.auth",
        "web.errors",
        "web.live",
        "web.middleware",
        "web.ops",
        "web.services",
        "web.uploads",
        "web.videos",
    },
    "web.server": {"settings"},
    "web.services": {
        "brokers",
        "errors",
        "services",
        "settings",
        "storage",
        "work",
        "tasks.celery",
    },
    "web.middleware": {"errors", "settings"},
    "web.errors": {"errors", "web.middleware"},
    "web.json_body": {"errors"},
    "web.auth": {
        "accounts",
        "errors",
        "records",
        "settings",
        "web.errors",
        "web.json_body",
        "web.middleware",
        "web.services",
    },
    "web.videos": {
        "accounts",
        "errors",
        "media",
        "records",
        "storage",
        "work",
        "tasks.workflow",
        "web.auth",
        "web.middleware",
        "web.services",
    },
    "web.uploads": {
        "errors",
        "storage",
        "uploads",
        "tasks.workflow",
        "web.auth",
        "web.middleware",
        "web.services",
    },
    "web.live": {"errors", "live", "records", "web.auth", "web.services", "web.videos"},
    "web.ops": {"brokers", "errors", "ops", "services", "web.middleware", "web.services"},
}


def modules() -> list[Path]:
    return sorted(p for p in CORE.rglob("*.py") if "migrations" not in p.parts)


def callers() -> list[Path]:
    """The modules of ``web`` and ``tasks``."""
    return sorted(p for package in ("web", "tasks") for p in (ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(module: str) -> str:
    """The layer a dotted name belongs to: in the core, its subpackage or its top-level
    module (``transcoder.work.runner`` is ``work``); in the callers, the package or module
    under ``web`` or ``tasks`` (``web.auth.csrf`` is ``web.auth``), or the package itself."""
    parts = module.split(".")
    if parts[0] == "transcoder":
        return parts[1] if len(parts) > 1 else "__init__"
    return ".".join(parts[:2])


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every ``import``/``from ... import`` in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import (the core imports absolutely)"
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def imported_roots(path: Path) -> set[str]:
    return {module.split(".")[0] for module, _ in imports(path)}


def is_module(name: str) -> bool:
    path = ROOT / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def targets(path: Path) -> set[str]:
    """The modules of ours this file imports (``from transcoder.x import y`` counts
    ``transcoder.x.y`` when that is a module); relative imports (the callers') resolved."""
    me = module_name(path) if path.is_relative_to(ROOT) else path.stem
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            found.append((module, [alias.name for alias in node.names]))
    result = set()
    for module, names in found:
        if module.split(".")[0] not in PACKAGES:
            continue
        for name in names or [""]:
            candidate = f"{module}.{name}" if name else module
            result.add(candidate if is_module(candidate) else module)
    return result


def node(part: str) -> str:
    """A part's name in the diagram."""
    return "core_init" if part == "__init__" else part.replace(".", "_")


def label(part: str) -> str:
    """A part as a path: ``auth/``, ``ops.py``, ``__init__.py`` (in its package's box)."""
    if part in ("web", "tasks"):
        return "__init__.py"
    path = part.replace(".", "/") if "." in part else f"transcoder/{part}"
    return path.split("/", 1)[1] + ("/" if (ROOT / path).is_dir() else ".py")


#: The diagram's boxes: (its name, its title, which parts it holds).
BOXES = (
    ("web_app", "web/ (the Flask app)", lambda part: part == "web" or part.startswith("web.")),
    ("tasks_app", "tasks/ (the Celery app)", lambda part: part == "tasks" or part.startswith("tasks.")),
    (
        "core",
        "transcoder/ (no Flask, no Celery)",
        lambda part: "." not in part and part not in ("web", "tasks"),
    ),
)


def mermaid() -> str:
    """The Mermaid diagram of ``ALLOWED``: a box per package, an arrow per import a row
    allows (but to ``errors``, which everyone may import)."""
    lines = ["flowchart LR"]
    for name, title, holds in BOXES:
        lines.append(f'  subgraph {name}["{title}"]')
        for part in ALLOWED:
            if holds(part) and part not in ("errors", "__init__"):
                lines.append(f'    {node(part)}["{label(part)}"]')
        lines.append("  end")
    for part, allowed in ALLOWED.items():
        drawn = [node(other) for other in ALLOWED if other in allowed and other not in ("errors", part)]
        if drawn:
            lines.append(f"  {node(part)} --> {' & '.join(drawn)}")
    return "\n".join(lines) + "\n"


MERMAID = re.compile(r"(```mermaid\n)(.*?)(```)", re.S)


def test_the_documented_diagram_is_the_table():
    found = MERMAID.search(ARCHITECTURE.read_text())
    assert found is not None, "docs/architecture.md has a Mermaid diagram of the packages"
    assert found[2] == mermaid(), "the diagram is not the table: run `python -m tests.unit.test_layering`"


def test_core_imports_neither_flask_nor_celery_nor_its_callers():
    offenders = {module_name(p): imported_roots(p) & FORBIDDEN for p in modules()}
    assert len(offenders) > 40
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_each_part_imports_only_what_the_table_allows():
    layers = {part_of(module_name(p)) for p in [*modules(), *callers()]}
    assert layers == set(ALLOWED), "every part of the core, web/ and tasks/ has a row in the table"
    broken = {}
    for path in [*modules(), *callers()]:
        me = part_of(module_name(path))
        bad = {t for t in targets(path) if part_of(t) not in ALLOWED[me] | {me}}
        if bad:
            broken[module_name(path)] = sorted(bad)
    assert broken == {}


def test_the_table_is_what_the_code_imports():
    """No row allows an import nobody makes: the diagram drawn from the table shows the code."""
    used: dict[str, set[str]] = {part: set() for part in ALLOWED}
    for path in [*modules(), *callers()]:
        me = part_of(module_name(path))
        used[me] |= {part_of(t) for t in targets(path)} - {me}
    unused = {part: sorted(ALLOWED[part] - used[part]) for part in ALLOWED if ALLOWED[part] - used[part]}
    # The core's rows say what its packages may grow into (its ``__init__``s say the same).
    assert {part: gone for part, gone in unused.items() if "." in part or part in ("web", "tasks")} == {}


def cycles_in(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle found by a depth-first walk (every cycle of the graph shows at least once)."""
    found, done, trail = [], set(), []

    def visit(node: str) -> None:
        if node in trail:
            found.append(trail[trail.index(node) :] + [node])
            return
        if node in done:
            return
        trail.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt != node and nxt in graph:
                visit(nxt)
        trail.pop()
        done.add(node)

    for start in sorted(graph):
        visit(start)
    return found


def test_no_module_imports_itself_back_in_a_cycle():
    """Neither in the core nor in the callers: ``web/auth.py`` and ``web/context.py`` once
    imported each other, one of the two imports hidden inside a function."""
    graph = {module_name(p): targets(p) for p in [*modules(), *callers()]}
    assert cycles_in(graph) == []


def test_no_part_imports_itself_back_in_a_cycle():
    """The table itself runs one way: a package's modules load its ``__init__`` first, so a
    cycle between parts could close at run time through imports no module makes itself."""
    assert cycles_in(ALLOWED) == []


def test_no_private_name_is_used_outside_its_module():
    """Neither ``from x import _name`` nor ``module._name`` on a module of ours."""
    offenders = []
    for path in [*modules(), *callers()]:
        tree = ast.parse(path.read_text())
        ours = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (
                node.level or (node.module or "").split(".")[0] in PACKAGES
            ):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        offenders.append(f"{path.name}: from {node.module} import {alias.name}")
                    ours.add(alias.asname or alias.name)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in ours
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                offenders.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert offenders == []


def test_the_checks_see_a_forbidden_import_a_wrong_layer_and_a_private_name(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from celery import Celery\nimport web.ops\nfrom transcoder.work import runner\n")
    assert imported_roots(bad) & FORBIDDEN == {"celery", "web"}
    assert "transcoder.work.runner" in targets(bad)
    assert part_of("transcoder.work.runner") not in ALLOWED["media"]
    assert part_of("transcoder.settings") == "settings"
    assert part_of("web.auth.csrf") == "web.auth" and part_of("web") == "web"
    assert "web.live" not in ALLOWED["web.videos"] and "web" not in ALLOWED["web.auth"]
    relative = ROOT / "web" / "videos" / "pages.py"  # ``from ..auth.access import owned_video``
    assert "web.auth.access" in targets(relative)
    assert cycles_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


if __name__ == "__main__":
    # Draw docs/architecture.md's diagram from the table.
    text = ARCHITECTURE.read_text()
    ARCHITECTURE.write_text(MERMAID.sub(lambda m: m[1] + mermaid() + m[3], text, count=1))
    sys.exit(0)
