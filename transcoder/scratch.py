"""Working folders for one piece of work, in a process's scratch folder.

Each folder's name carries the id of the process that made it, so when a process is
killed mid-work (and its ``finally`` never runs) whoever starts next on that machine
can tell its leftovers from the live work of the processes beside it, and remove them.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

NAME = re.compile(r"^(?:work|upload)\.(\d+)\.")


@contextmanager
def folder(scratch: Path, kind: str = "work") -> Iterator[Path]:
    """A fresh folder, removed when the work ends, whatever happened."""
    scratch = Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{kind}.{os.getpid()}.", dir=scratch))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def clean(scratch: Path) -> list[Path]:
    """Remove the folders of processes that no longer run; returns what was removed."""
    scratch = Path(scratch)
    removed = []
    if not scratch.is_dir():
        return removed
    for path in scratch.iterdir():
        match = NAME.match(path.name)
        if match and path.is_dir() and not _alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        log.info("scratch: removed %d folders left by killed processes", len(removed))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
