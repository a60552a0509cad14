"""Mutants: the mechanisms behind our guarantees, each switched off in a copy of the code, must
be caught by a test. `make test` runs the quick ones here; `make mutants` runs them all and
writes the table in docs/reliability.md, which this file checks against the catalog."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support.processes import ROOT

from .catalog import MUTANTS, TRIALS
from .run import BEGIN, DOCS, END, apply, copy_project


def test_every_mutant_still_applies_to_the_code(tmp_path):
    root = copy_project(tmp_path)
    for mutant in MUTANTS:
        # Each on the unbroken code, as it is run: two mutants may switch off one line.
        unbroken = {file: (root / file).read_text() for file, _, _ in mutant.edits}
        apply(mutant, root)  # raises when the code changed under a mutant's text
        for file, text in unbroken.items():
            (root / file).write_text(text)


def test_every_mutant_names_tests_that_exist():
    for mutant in MUTANTS:
        for test in mutant.tests:
            file, _, name = test.partition("::")
            path = ROOT / file
            assert path.is_file(), f"{mutant.name}: no {file}"
            if name:
                assert re.search(rf"def {re.escape(name.split('[')[0])}\(", path.read_text()), test


def test_quick_mutants_are_killed():
    done = subprocess.run(
        [sys.executable, "-m", "tests.mutants.run", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "SURVIVED" not in done.stdout


def test_the_documented_table_is_a_full_run_of_the_catalog():
    doc = DOCS.read_text()
    table = doc[doc.index(BEGIN) : doc.index(END)]
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \| (.+?) \| (.+?) \|$", table, flags=re.M)
    assert [r[0] for r in rows] == [m.name for m in MUTANTS], "run `make mutants` to write the table"
    for (name, mechanism, killers, result), mutant in zip(rows, MUTANTS, strict=True):
        assert mechanism == mutant.mechanism and result == "killed", name
        killers_files = {f"tests/{k.split('::')[0]}.py" for k in re.findall(r"`([^`]+)`", killers)}
        assert killers_files and killers_files <= {t.split("::")[0] for t in mutant.tests}, (name, killers)


def test_trials_named_by_mutants_are_fault_trials():
    for mutant in MUTANTS:
        for test in mutant.tests:
            if "faults" in test:
                assert test.startswith((TRIALS, "tests/faults/test_broker_faults.py"))
