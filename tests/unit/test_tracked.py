"""Every file the Makefile and CI name is in git: CI runs on a fresh clone, so a file the
checkout has and git does not (``tests/mutants/pure.py`` was kept out by an ignore line
meant for mutmut's own output) works here and breaks there."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNERS = ("Makefile", ".ci/run")


def named_files(text: str) -> set[str]:
    """Paths a recipe runs or reads: ``infra/x.sh``, ``tests/y.py``, and ``-m a.b.c`` modules."""
    paths = set(re.findall(r"(?<![\w./$-])((?:infra|tests|\.ci)/[\w./-]+\.(?:sh|py))\b", text))
    for module in re.findall(r"-m\s+((?:tests|transcoder|web|tasks)(?:\.\w+)+)", text):
        package = ROOT / module.replace(".", "/")
        paths.add(
            str(
                (package / "__main__.py" if package.is_dir() else package.with_suffix(".py")).relative_to(
                    ROOT
                )
            )
        )
    return paths


def tracked() -> set[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(listed.stdout.splitlines())


def test_the_makefile_names_what_this_test_reads():
    names = named_files((ROOT / "Makefile").read_text())
    assert {"infra/setup-system.sh", "tests/mutants/run.py", "tests/mutants/pure.py"} <= names, names


@pytest.mark.parametrize("runner", RUNNERS)
def test_every_file_a_runner_names_is_in_git(runner):
    in_git = tracked()
    assert runner in in_git, f"{runner} is not in git"
    missing = sorted(p for p in named_files((ROOT / runner).read_text()) if p not in in_git)
    assert not missing, f"{runner} names files a fresh clone does not have: {missing}"
