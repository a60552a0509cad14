"""Checkpoints: each refreshes the lock, then records; a revoked key stops before the
record; the process's hash is kept only when it covers exactly the bytes recorded."""

from __future__ import annotations

import hashlib

import pytest

from transcoder.errors import Unauthorized
from transcoder.uploads.checkpoints import Checkpoints
from transcoder.uploads.streaming import HASHES, Feed

UPLOAD = "0123456789abcdef0123456789abcdef"


class Lock:
    def __init__(self) -> None:
        self.refreshed = 0

    def refresh(self, force: bool = False) -> None:
        self.refreshed += 1


def made(records: list, revoked=None, begun: int = 0):
    lock = Lock()
    feed = Feed([], 100, hashlib.sha256(), None, lock)  # type: ignore[arg-type]
    marks = Checkpoints(UPLOAD, begun, {}, lambda *args: records.append(args), feed, lock, revoked)  # type: ignore[arg-type]
    return marks, feed, lock


def test_each_checkpoint_records_from_the_last_and_keeps_a_whole_hash():
    records: list = []
    marks, feed, lock = made(records)
    feed.digest.update(b"x" * 10)
    feed.count = 10
    marks(10, {"n": 1})
    assert records == [(0, 10, {"n": 1})] and lock.refreshed == 1
    assert HASHES.at(UPLOAD, 10).hexdigest() == hashlib.sha256(b"x" * 10).hexdigest()
    feed.digest.update(b"y" * 15)
    feed.count = 25  # the body ran ahead of what is stored (an S3 part in flight)
    marks(20, {"n": 2})
    assert records[-1] == (10, 20, {"n": 2}) and (marks.offset, marks.state) == (20, {"n": 2})
    assert HASHES.at(UPLOAD, 20) is None  # lost: the last byte reads the bytes again
    HASHES.drop(UPLOAD)


def test_a_revoked_key_stops_before_the_record():
    records: list = []
    marks, _, lock = made(records, revoked=lambda: "key revoked")
    with pytest.raises(Unauthorized):
        marks(10, {})
    assert records == [] and lock.refreshed == 0 and marks.offset == 0
