"""The faults table in docs/reliability.md is the one `make faults` wrote: one row per trial that
exists now, on each broker it runs on, each passed in every run, at least 20 runs each."""

from __future__ import annotations

import inspect
import re

from . import test_broker_faults, test_catalog_faults, test_faults
from .conftest import BEGIN, DOCS, END

#: The brokers `make faults` runs each trial of test_faults on (those that start a cluster).
OTHER_BROKERS = ("RabbitMQ", "SQS")


def trial_names() -> list[str]:
    names = []
    for test in vars(test_faults).values():
        if hasattr(test, "trial_name"):
            names.append(test.trial_name)
            if "cluster" in inspect.signature(test.__wrapped__).parameters:
                names += [f"{test.trial_name}, on {broker}" for broker in OTHER_BROKERS]
    names += [t.trial_name for t in vars(test_catalog_faults).values() if hasattr(t, "trial_name")]
    # Runs of test_broker_faults are rows of test_faults' trials on another broker.
    again = {f"{t.trial_name}, on {b}" for t in vars(test_broker_faults).values() if hasattr(t, "trial_name")
             for b in OTHER_BROKERS}  # fmt: skip
    assert again <= set(names)
    return sorted(names, key=lambda name: int(name.split(".")[0]))


def test_the_documented_table_lists_every_trial_all_passed():
    doc = DOCS.read_text()
    table = doc[doc.index(BEGIN) : doc.index(END)]
    rows = re.findall(r"^\| (\d+\. [^|]+?) \| (\d+)/(\d+) \|$", table, flags=re.M)
    assert [name for name, _, _ in rows] == trial_names(), "run `make faults` to write the table"
    for name, passed, runs in rows:
        assert passed == runs and int(runs) >= 20, f"{name}: {passed}/{runs}"
    assert re.search(r"`make faults` on \d{4}-\d\d-\d\d: \d+ trial runs", table)
