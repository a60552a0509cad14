"""Reviewed copies of what pure code builds (every ffmpeg command, whole plans): a test
compares against the copy, and ``TRANSCODER_WRITE_GOLDEN=1`` writes it again after a
change that was meant, for its diff to be read before it is committed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def assert_matches_golden(path: Path, made: dict[str, Any]) -> None:
    made = json.loads(json.dumps(made))  # tuples as lists, as the copy holds them
    if os.environ.get("TRANSCODER_WRITE_GOLDEN") == "1":
        path.write_text(json.dumps(made, indent=1) + "\n")
    kept = json.loads(path.read_text())
    assert made.keys() == kept.keys()
    for name in made:
        assert made[name] == kept[name], name
