"""Apply each mutant to a copy of the project, run its tests there, and report which killed it.

    python -m tests.mutants.run            # every mutant, every test it lists (make mutants)
    python -m tests.mutants.run --quick    # the quick ones, with their quick tests (make test)
    python -m tests.mutants.run --write-docs   # also put the table into docs/reliability.md

A mutant is killed when at least one of its tests fails on the broken copy. Before the
mutants, the same tests run on an unbroken copy and must pass: a test that fails there
proves nothing (with --quick, inside `make test`, the suite itself is that run).
Results go to tests/artifacts/mutants.json and mutants.md.
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
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import MUTANTS, TRIALS, Mutant

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "reliability.md"
ARTIFACTS = ROOT / "tests" / "artifacts"
COPIED = ("pyproject.toml", "transcoder", "tasks", "web", "tests", "infra")
#: The nested runs use a Redis database of their own, never the suite's (another server's
#: with TRANSCODER_MUTANTS_REDIS_URL, so two runs on one machine keep apart).
NESTED_REDIS_URL = os.environ.get("TRANSCODER_MUTANTS_REDIS_URL", "redis://127.0.0.1:6379/7")
BEGIN, END = "<!-- mutants-table -->", "<!-- /mutants-table -->"


class MutantDoesNotApply(Exception):
    """The code changed under a mutant: its text must be brought up to date in the catalog."""


@dataclass
class Outcome:
    mutant: str
    mechanism: str
    tests: list[str]
    failed: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""

    @property
    def killed(self) -> bool:
        return bool(self.failed) and not self.error


def tests_for(mutant: Mutant, quick: bool) -> list[str]:
    return [t for t in mutant.tests if not (quick and t.startswith(TRIALS))]


#: Tests that share nothing between runs (no Redis, no database, no port of their own): the
#: mutants caught by them can run beside any other.
ALONE = ("tests/unit/", "tests/integration/test_ffmpeg_process.py")


def lanes(mutants: list[Mutant], quick: bool) -> list[list[Mutant]]:
    """The mutants in three lanes that run side by side: those whose tests share the nested
    Redis database take turns in one; the others are dealt into two more. The timed tests
    among them (the ffmpeg watch) miss their bound by seconds when their mechanism is off,
    so sharing the cores does not change a verdict. A full run (`make mutants`) keeps one
    lane: its fault trials time a mid-encode fault against the whole machine's pace."""
    if not quick:
        return [mutants]
    shared = [m for m in mutants if not all(t.startswith(ALONE) for t in tests_for(m, quick))]
    alone = [m for m in mutants if m not in shared]
    return [lane for lane in (shared, alone[0::2], alone[1::2]) if lane]


def copy_project(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "artifacts", "*.egg-info", ".pytest_cache")
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore, symlinks=True)
        else:
            shutil.copy(src, dest / name)
    return dest


def apply(mutant: Mutant, root: Path) -> None:
    for file, old, new in mutant.edits:
        path = root / file
        text = path.read_text()
        if text.count(old) != 1:
            raise MutantDoesNotApply(
                f"mutant {mutant.name}: the text to change occurs {text.count(old)} times in {file}, not once"
            )
        path.write_text(text.replace(old, new))


def run_tests(root: Path, tests: list[str], timeout: float) -> tuple[list[str], list[str], str]:
    """Run pytest in ``root``; returns (failed, passed, error) by test id."""
    report = root / "report.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSCODER_")}
    env.update(TRANSCODER_TEST_REDIS_URL=NESTED_REDIS_URL, TRANSCODER_FAULT_TRIALS="1")
    # The CLI the tests start is the venv's entry point, whose editable install points at the
    # checkout: the copy goes first on the path, so the CLI runs the broken code too.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(root), env.get("PYTHONPATH"))))
    # Hypothesis's pytest plugin costs half a second at every start and is not needed for @given.
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
            "--junitxml", str(report), *tests]  # fmt: skip
    try:
        done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [], [], f"timed out after {timeout:g} s"
    if not report.exists():
        return [], [], f"pytest exited {done.returncode}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    failed, passed = [], []
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        bad = case.find("failure") is not None or case.find("error") is not None
        if case.find("skipped") is not None:
            continue
        (failed if bad else passed).append(name)
    if done.returncode not in (0, 1):
        return failed, passed, f"pytest exited {done.returncode}: {done.stdout[-2000:]}"
    return failed, passed, ""


def check_baseline(mutants: list[Mutant], quick: bool, timeout: float) -> None:
    """Every test a mutant relies on must pass on the unbroken code."""
    tests = sorted({t for m in mutants for t in tests_for(m, quick)})
    with tempfile.TemporaryDirectory(prefix="mutant-baseline-") as tmp:
        failed, passed, error = run_tests(copy_project(Path(tmp)), tests, timeout)
    if error or failed or not passed:
        raise SystemExit(f"the unbroken code does not pass its mutants' tests: {failed} {error}")
    print(f"baseline: {len(passed)} tests pass on the unbroken code", flush=True)


def run_mutant(mutant: Mutant, quick: bool, timeout: float) -> Outcome:
    tests = tests_for(mutant, quick)
    outcome = Outcome(mutant.name, mutant.mechanism, tests)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name}-") as tmp:
        root = copy_project(Path(tmp))
        apply(mutant, root)
        outcome.failed, outcome.passed, outcome.error = run_tests(root, tests, timeout)
    outcome.seconds = round(time.monotonic() - began, 1)
    return outcome


def table(outcomes: list[Outcome]) -> str:
    lines = ["| mutant | mechanism switched off | killed by | result |", "| --- | --- | --- | --- |"]
    for o in outcomes:
        killers = ", ".join(f"`{_short(t)}`" for t in o.failed) or "nothing"
        result = "killed" if o.killed else ("error: " + o.error[:80] if o.error else "**survived**")
        lines.append(f"| `{o.mutant}` | {o.mechanism} | {killers} | {result} |")
    return "\n".join(lines) + "\n"


def _short(test: str) -> str:
    return test.removeprefix("tests/").replace(".py::", "::")


def write_docs(text: str, note: str) -> None:
    doc = DOCS.read_text()
    start, end = doc.index(BEGIN) + len(BEGIN) + 1, doc.index(END)
    doc = doc[:start] + text + doc[end:]
    marker = "<!-- mutants-run -->"
    run_start, run_end = doc.index(marker) + len(marker) + 1, doc.index("<!-- /mutants-run -->")
    DOCS.write_text(doc[:run_start] + note + "\n" + doc[run_end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="only mutants killed by quick tests")
    parser.add_argument("--only", nargs="*", default=[], help="mutants by name")
    parser.add_argument("--write-docs", action="store_true", help="write the table into docs/reliability.md")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per pytest run")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if (m.quick or not args.quick) and (not args.only or m.name in args.only)]
    began = time.monotonic()
    # The quick mutants run inside `make test`, which runs their tests on the unbroken code
    # anyway (and fails if one fails): the baseline would only run them twice.
    if not args.quick:
        check_baseline(chosen, args.quick, args.timeout)
    by_name: dict[str, Outcome] = {}

    def run_lane(lane: list[Mutant]) -> None:
        for mutant in lane:
            outcome = run_mutant(mutant, args.quick, args.timeout)
            error = "ERROR " + outcome.error if outcome.error else "SURVIVED"
            state = "killed" if outcome.killed else error
            print(f"{mutant.name}: {state} in {outcome.seconds:g} s by {outcome.failed}", flush=True)
            by_name[mutant.name] = outcome

    with ThreadPoolExecutor(max_workers=3) as pool:
        for finished in [pool.submit(run_lane, lane) for lane in lanes(chosen, args.quick)]:
            finished.result()
    outcomes = [by_name[m.name] for m in chosen]
    text = table(outcomes)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "mutants.md").write_text(text)
    (ARTIFACTS / "mutants.json").write_text(json.dumps([o.__dict__ for o in outcomes], indent=2))
    print(text)
    if args.write_docs:
        minutes = (time.monotonic() - began) / 60
        killed = sum(o.killed for o in outcomes)
        note = (
            f"(`make mutants` on {time.strftime('%Y-%m-%d')}: {killed} of {len(outcomes)} mutants killed, "
            f"{minutes:.1f} min on this machine.)"
        )
        write_docs(text, note)
    return 0 if all(o.killed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
