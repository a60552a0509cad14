"""Where `transcoder submit` remembers its unfinished resumable uploads between runs.

A run that is killed, or that gives up after its retries, leaves the upload's URL here; the
next `transcoder submit` of the same file to the same server asks that URL how far the
server got and sends only the rest. An entry is keyed by the file's absolute path, size
and modification time and the server's URL, so an edited file, or another server, starts
afresh; it is removed once the upload has become a video. Entries older than a week are
dropped whenever the store is written (the server forgets unfinished uploads after a day
by default, so an older URL would only answer 404).

One small JSON file in the user's cache folder (``$XDG_CACHE_HOME/transcoder``, else
``~/.cache/transcoder``), written whole through a temporary file and a rename, so two runs
at once can lose an entry (then an upload starts afresh) but never leave a broken file.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Entries older than this are dropped when the store is written.
KEEP_SECONDS = 7 * 86400


def default_path(env: Mapping[str, str]) -> Path:
    """The store's file: under ``$XDG_CACHE_HOME`` (the freedesktop convention), else ``~/.cache``."""
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "transcoder" / "uploads.json"


def key(path: str, size: int, mtime_ns: int, server: str) -> str:
    """Names one file's upload to one server: another size or time of change is another file."""
    return json.dumps([path, size, mtime_ns, server.rstrip("/")])


def key_of(path: Path, server: str) -> str:
    stat = path.stat()
    return key(str(path.resolve()), stat.st_size, stat.st_mtime_ns, server)


def pruned(entries: Mapping[str, Any], now: float, keep: float = KEEP_SECONDS) -> dict[str, Any]:
    """The entries still worth keeping: well formed, and younger than ``keep`` seconds."""
    return {
        k: v
        for k, v in entries.items()
        if isinstance(v, dict)
        and isinstance(v.get("url"), str)
        and isinstance(v.get("at"), int | float)
        and now - v["at"] < keep
    }


class UrlStore:
    """The unfinished uploads' URLs in one JSON file; a missing or unreadable file is empty."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, Any]:
        try:
            entries = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return entries if isinstance(entries, dict) else {}

    def _write(self, entries: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".uploads-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(entries, fh, indent=1)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, entry: str) -> str | None:
        found = pruned(self._read(), time.time()).get(entry)
        return found["url"] if found else None

    def put(self, entry: str, url: str) -> None:
        now = time.time()
        self._write({**pruned(self._read(), now), entry: {"url": url, "at": now}})

    def forget(self, entry: str) -> None:
        entries = self._read()
        if entry in entries:
            del entries[entry]
            self._write(pruned(entries, time.time()))
