"""mutmut over each pure module of the core, each against its own unit tests only.

Our catalog (``tests.mutants.run``) switches off the mechanisms we thought of; mutmut
changes every comparison, constant and call of a module, so a mutant that survives is a
behaviour no test of that module pins down. Each module runs in a copy of the project of
its own (mutmut writes its ``mutants/`` folder beside the code it mutates), against only
the tests named for it here: a behaviour counts as pinned when the module's own tests
pin it, not when an integration test happens to.

    python -m tests.mutants.pure                # every module, a table on stdout
    python -m tests.mutants.pure --only ladder  # modules whose path holds a word
    python -m tests.mutants.pure --write-docs   # also the table into docs (make mutants)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Where the table is kept, between these two markers.
DOC = ROOT / "docs" / "testing.md"
BEGIN, END = "<!-- mutmut-table -->", "<!-- /mutmut-table -->"
#: What each module's copy holds: the code and the tests, nothing the run leaves behind.
COPIED = ("transcoder", "web", "tasks", "tests", "pyproject.toml")
IGNORED = shutil.ignore_patterns("__pycache__", "artifacts", "*.pyc", ".pytest_cache")
#: The share of mutants each module's own tests should kill.
AIM = 0.85


@dataclass(frozen=True)
class Pure:
    """A pure module of the core and the unit tests that are its own."""

    module: str
    tests: tuple[str, ...]


MODULES = (
    Pure("transcoder/media/ladder.py", ("tests/unit/media/test_ladder.py",)),
    Pure(
        "transcoder/media/planner.py",
        ("tests/unit/media/test_planner.py", "tests/unit/media/test_planner_golden.py"),
    ),
    Pure("transcoder/media/progress.py", ("tests/unit/media/test_progress.py",)),
    Pure("transcoder/media/previews.py", ("tests/unit/media/test_previews.py",)),
    Pure("transcoder/media/color.py", ("tests/unit/media/test_color.py",)),
    Pure(
        "transcoder/media/commands.py",
        (
            "tests/unit/media/test_commands.py",
            "tests/unit/media/test_commands_golden.py",
            "tests/unit/work/test_join.py",
        ),
    ),
    Pure("transcoder/media/hls.py", ("tests/unit/media/test_hls.py",)),
    Pure(
        "transcoder/records/transitions.py",
        ("tests/unit/records/test_transitions.py", "tests/unit/records/test_transitions_fields.py"),
    ),
    Pure("transcoder/records/summary.py", ("tests/unit/records/test_summary.py",)),
    Pure("transcoder/work/playlists.py", ("tests/unit/work/test_playlists.py",)),
    Pure("transcoder/media/frames.py", ("tests/unit/media/test_frames.py", "tests/integration/test_scan.py")),
    Pure("transcoder/media/policy.py", ("tests/unit/media/test_policy.py",)),
    Pure("transcoder/records/states.py", ("tests/unit/records/test_states.py",)),
    Pure("transcoder/storage/layout.py", ("tests/unit/storage/test_layout.py",)),
    Pure("transcoder/work/retry.py", ("tests/unit/work/test_retry.py",)),
)


@dataclass(frozen=True)
class Score:
    pure: Pure
    counts: Counter

    @property
    def mutants(self) -> int:
        return sum(self.counts.values())

    @property
    def killed(self) -> int:
        return self.counts["killed"]


def setup_cfg(pure: Pure) -> str:
    """mutmut's settings for one module: mutate only it, run only its tests."""
    tests = "\n    ".join(pure.tests)
    return (
        "[mutmut]\nsource_paths = transcoder\n"
        f"only_mutate = {pure.module}\n"
        f"pytest_add_cli_args_test_selection =\n    {tests}\n"
        "pytest_add_cli_args = -p no:cacheprovider -q\n"
    )


def statuses(copy: Path) -> Counter:
    """Each mutant's fate, from the ``.meta`` files mutmut writes beside the code."""
    from mutmut.stats import status_by_exit_code

    found: Counter = Counter()
    for meta in (copy / "mutants").rglob("*.meta"):
        for exit_code in json.loads(meta.read_text())["exit_code_by_key"].values():
            found[status_by_exit_code[exit_code]] += 1
    return found


def score(pure: Pure, timeout: float) -> Score:
    with tempfile.TemporaryDirectory(prefix="mutmut-") as folder:
        copy = Path(folder)
        for name in COPIED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, copy / name, ignore=IGNORED)
            else:
                shutil.copy2(source, copy / name)
        (copy / "setup.cfg").write_text(setup_cfg(pure))
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        run = subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(os.cpu_count() or 2)],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        counts = statuses(copy)
        if not counts:
            raise SystemExit(
                f"mutmut found nothing to run for {pure.module}:\n{run.stdout[-2000:]}{run.stderr[-2000:]}"
            )
        return Score(pure, counts)


def table(scores: list[Score], seconds: float) -> str:
    rows = ["| module | its tests | mutants | killed | score |", "| --- | --- | --- | --- | --- |"]
    for s in scores:
        tests = ", ".join(f"`{Path(t).name}`" for t in s.pure.tests)
        rows.append(
            f"| `{s.pure.module}` | {tests} | {s.mutants} | {s.killed} | {s.killed / s.mutants:.0%} |"
        )
    total, killed = sum(s.mutants for s in scores), sum(s.killed for s in scores)
    rows.append(f"| all | | {total} | {killed} | {killed / max(total, 1):.0%} |")
    rows.append(f"(`make mutants` on {date.today().isoformat()}, {seconds:.0f} s.)")
    return "\n".join(rows)


def write_docs(text: str, doc: Path = DOC) -> None:
    body = doc.read_text()
    if BEGIN not in body or END not in body:
        raise SystemExit(f"{doc} has no {BEGIN} ... {END} markers for the table")
    head, rest = body.split(BEGIN, 1)
    doc.write_text(f"{head}{BEGIN}\n{text}\n{END}{rest.split(END, 1)[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", default=[], help="modules whose path holds one of these words")
    parser.add_argument("--write-docs", action="store_true", help=f"write the table into {DOC.name}")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per module")
    args = parser.parse_args()
    chosen = [p for p in MODULES if not args.only or any(word in p.module for word in args.only)]
    started, scores = time.monotonic(), []
    for pure in chosen:
        s = score(pure, args.timeout)
        print(f"{pure.module}: {s.killed}/{s.mutants} killed {dict(s.counts)}", flush=True)
        scores.append(s)
    text = table(scores, time.monotonic() - started)
    print(text)
    if args.write_docs and not args.only:
        write_docs(text)
    weak = [s.pure.module for s in scores if s.killed < AIM * s.mutants]
    if weak:
        print(f"under the aim of {AIM:.0%} killed: {', '.join(weak)}")


if __name__ == "__main__":
    main()
