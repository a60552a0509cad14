"""The house keeps its plan: which part of the code may import which, no cycles, no private
names used outside their module.

The core (``transcoder``) imports no Flask, Celery, ``web`` or ``tasks``. Inside it, each
subpackage may import only what ``ALLOWED`` names (its ``__init__`` says the same in words).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "transcoder"
FORBIDDEN = {"flask", "werkzeug", "celery", "kombu", "web", "tasks"}

#: Who may import whom inside the core ("errors" is everyone's; a part may always import itself).
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
    "client": {"errors"},
    "cli": {"accounts", "brokers", "client", "errors", "ops", "records", "services", "settings"},
    "__init__": set(),
}


def modules() -> list[Path]:
    return sorted(p for p in CORE.rglob("*.py") if "migrations" not in p.parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(module: str) -> str:
    """The layer a dotted name of the core belongs to: its subpackage, or its top-level module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


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


def core_targets(path: Path) -> set[str]:
    """The modules of the core this file imports (``from transcoder.x import y`` counts
    ``transcoder.x.y`` when that is a module)."""
    targets = set()
    for module, names in imports(path):
        if module.split(".")[0] != "transcoder":
            continue
        for name in names or [""]:
            candidate = f"{module}.{name}" if name else module
            is_module = (ROOT / candidate.replace(".", "/")).with_suffix(".py").exists() or (
                ROOT / candidate.replace(".", "/") / "__init__.py"
            ).exists()
            targets.add(candidate if is_module else module)
    return targets


def test_core_imports_neither_flask_nor_celery_nor_its_callers():
    offenders = {module_name(p): imported_roots(p) & FORBIDDEN for p in modules()}
    assert len(offenders) > 40
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_each_subpackage_imports_only_what_the_table_allows():
    layers = {part_of(module_name(p)) for p in modules()}
    assert layers == set(ALLOWED), "every part of the core has a row in the table"
    broken = {}
    for path in modules():
        me = part_of(module_name(path))
        bad = {t for t in core_targets(path) if part_of(t) not in ALLOWED[me] | {me}}
        if bad:
            broken[module_name(path)] = sorted(bad)
    assert broken == {}


def test_no_module_of_the_core_imports_itself_back_in_a_cycle():
    graph = {module_name(p): core_targets(p) for p in modules()}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        if node in trail:
            cycles.append(trail[trail.index(node) :] + [node])
            return
        for nxt in graph.get(node, ()):
            if nxt != node and nxt in graph:
                visit(nxt, [*trail, node])

    for start in graph:
        visit(start, [])
    assert cycles == []


def test_no_private_name_is_used_outside_its_module():
    """Neither ``from x import _name`` nor ``module._name`` on a module of ours."""
    offenders = []
    for path in [*modules(), *(ROOT / "web").rglob("*.py"), *(ROOT / "tasks").rglob("*.py")]:
        tree = ast.parse(path.read_text())
        ours = set()
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.split(".")[0]
                in (
                    "transcoder",
                    "web",
                    "tasks",
                )
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
    bad.write_text("from celery import Celery\nimport web.api\nfrom transcoder.work import runner\n")
    assert imported_roots(bad) & FORBIDDEN == {"celery", "web"}
    assert "transcoder.work.runner" in core_targets(bad)
    assert part_of("transcoder.work.runner") not in ALLOWED["media"]
    assert part_of("transcoder.settings") == "settings"
