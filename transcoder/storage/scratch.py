"""Working folders for one piece of work, and a cache of downloads, in a machine's scratch folder.

Each folder's name carries the id of the process that made it, so when a process is
killed mid-work (and its ``finally`` never runs) whoever starts next on that machine
can tell its leftovers from the live work of the processes beside it, and remove them.

A video's parts all read its source, often on one machine within minutes: the cache
keeps one copy per machine. A part gets a hard link into its own folder, so evicting
a cache entry never pulls a file from under a running ffmpeg.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

NAME = re.compile(r"^(?:work|upload)\.(\d+)\.")
CACHE = "cache"
#: A cached download not used for this long is removed by the sweeper.
CACHE_SECONDS = 15 * 60


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


def link_cached(scratch: Path, name: str, download: Callable[[Path], None], target: Path) -> None:
    """Make ``target`` a link to this machine's copy of ``name``, downloading it first if needed.

    Processes fetching the same name wait for one download. Should two ever both
    download (an entry evicted as they queued), each writes its own temporary file
    and renames it into place, so either way the entry is a complete copy.
    """
    cache = Path(scratch) / CACHE
    cache.mkdir(parents=True, exist_ok=True)
    entry = cache / hashlib.sha256(name.encode()).hexdigest()
    with open(entry.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not entry.exists():
            part = entry.with_suffix(f".{os.getpid()}.part")
            try:
                download(part)
                os.replace(part, entry)
            finally:
                part.unlink(missing_ok=True)
        os.utime(entry)  # its last use, for eviction
        os.link(entry, target)


def clean(scratch: Path, cache_seconds: float = CACHE_SECONDS) -> list[Path]:
    """Remove the folders of processes that no longer run, and cached downloads unused for
    ``cache_seconds``; returns what was removed."""
    scratch = Path(scratch)
    removed: list[Path] = []
    if not scratch.is_dir():
        return removed
    for path in scratch.iterdir():
        match = NAME.match(path.name)
        if match and path.is_dir() and not _alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    removed += _evict(scratch / CACHE, time.time() - cache_seconds)
    if removed:
        log.info("scratch: removed %d folders left by killed processes", len(removed))
    return removed


def _evict(cache: Path, older_than: float) -> list[Path]:
    removed: list[Path] = []
    if not cache.is_dir():
        return removed
    for lock_path in cache.glob("*.lock"):
        entry = lock_path.with_suffix("")
        with open(lock_path, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # being downloaded or linked right now: in use
            try:
                if entry.stat().st_mtime >= older_than:
                    continue
                entry.unlink()
                removed.append(entry)
            except FileNotFoundError:
                pass  # a download that failed: only its lock is left
            lock_path.unlink(missing_ok=True)
        for part in cache.glob(f"{entry.name}.*.part"):  # a download whose process was killed
            match = re.search(r"\.(\d+)\.part$", part.name)
            if match and not _alive(int(match.group(1))):
                part.unlink(missing_ok=True)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
