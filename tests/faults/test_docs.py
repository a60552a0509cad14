"""The faults table in docs/reliability.md is the one `make faults` wrote: one row per trial that
exists now, each passed in every run, at least 20 runs each."""

from __future__ import annotations

import re

from . import test_broker_faults, test_catalog_faults, test_faults
from .conftest import BEGIN, DOCS, END


def trial_names() -> list[str]:
    tests = [
        *vars(test_faults).values(),
        *vars(test_catalog_faults).values(),
        *vars(test_broker_faults).values(),
    ]
    names = [test.trial_name for test in tests if hasattr(test, "trial_name")]
    return sorted(names, key=lambda name: int(name.split(".")[0]))


def test_the_documented_table_lists_every_trial_all_passed():
    doc = DOCS.read_text()
    table = doc[doc.index(BEGIN) : doc.index(END)]
    rows = re.findall(r"^\| (\d+\. [^|]+?) \| (\d+)/(\d+) \|$", table, flags=re.M)
    assert [name for name, _, _ in rows] == trial_names(), "run `make faults` to write the table"
    for name, passed, runs in rows:
        assert passed == runs and int(runs) >= 20, f"{name}: {passed}/{runs}"
    assert re.search(r"`make faults` on \d{4}-\d\d-\d\d: \d+ trial runs", table)
