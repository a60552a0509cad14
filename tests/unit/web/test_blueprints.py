"""The web app's plan, as the code states it: each blueprint is named for its module (an
endpoint's name says which file holds it: ``sse.video_events`` is in ``web/live/sse.py``),
and each package of ``web/`` has its own ``init_app``, which the factory calls."""

from __future__ import annotations

import ast
from pathlib import Path

WEB = Path(__file__).resolve().parents[3] / "web"


def blueprints() -> dict[Path, str]:
    """Each module that makes a blueprint, and the name it gives it."""
    found = {}
    for path in sorted(WEB.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Blueprint":
                found[path] = node.args[0].value  # type: ignore[attr-defined]
    return found


def test_each_blueprint_is_named_for_its_module():
    made = blueprints()
    assert len(made) >= 7
    assert {path.relative_to(WEB).as_posix(): name for path, name in made.items() if name != path.stem} == {}


def defines_init_app(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    return any(isinstance(node, ast.FunctionDef) and node.name == "init_app" for node in tree.body)


def test_each_package_has_an_init_app_the_factory_calls():
    packages = sorted(p.parent.name for p in WEB.glob("*/__init__.py"))
    assert packages == ["auth", "live", "middleware", "uploads", "videos"]
    assert all(defines_init_app(WEB / name / "__init__.py") for name in packages)
    factory = (WEB / "__init__.py").read_text()
    assert all(f"{name}.init_app(app" in factory for name in packages)
