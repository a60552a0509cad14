"""The core must not depend on its callers or on the web and task frameworks."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "transcoder"
FORBIDDEN = {"flask", "werkzeug", "celery", "kombu", "web", "tasks"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_imports_neither_flask_nor_celery_nor_its_callers():
    modules = sorted(CORE.glob("*.py"))
    assert len(modules) > 5
    offenders = {p.name: imported_roots(p) & FORBIDDEN for p in modules}
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_the_check_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from celery import Celery\nimport web.api\n")
    assert imported_roots(bad) & FORBIDDEN == {"celery", "web"}
