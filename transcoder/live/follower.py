"""One live stream's side of the hub: what it follows, and the newest snapshot of each
video it has not yet sent.

It knows nothing of the hub: the hub indexes it (``Hub.add``, ``Hub.remove``...) and
offers it snapshots; the stream takes them.

Snapshots are whole states, so a newer one says everything an older one did: a
follower keeps at most one pending snapshot per video (a slow reader costs no more and
delays no one), never takes one older than what it already sent, and is dropped when it
has taken nothing for ``STALL_S``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

#: A follower that has not taken what was waiting for it in this long is dropped.
STALL_S = 30.0


@dataclass(frozen=True)
class Snapshot:
    """One state of one video, rendered once for every follower."""

    video_id: str
    seq: int
    terminal: bool
    body: str
    #: The id of the user the video belongs to (None: recorded before accounts).
    owner: str | None = None


class Follower:
    """What one stream follows, and the newest snapshots it has not yet sent."""

    def __init__(
        self,
        counts: Counter[str],
        videos: Iterable[str] | None,
        seen: dict[str, int] | None = None,
        owner: str | None = None,
    ) -> None:
        #: The hub's counts of snapshots coalesced and delivered, which this follower adds to.
        self.counts = counts
        #: Only this user's videos reach this follower (None: everyone's, for an admin).
        self.owner = owner
        self.everything = videos is None
        self.videos: set[str] = set() if videos is None else set(videos)
        #: The newest seq sent of each video (seeded from a resuming client's last event).
        self.sent: dict[str, int] = dict(seen or {})
        self.pending: OrderedDict[str, Snapshot] = OrderedDict()
        self.waiting_since: float | None = None
        self.dropped = False
        self.closed = False
        self._wake = threading.Event()
        self._lock = threading.Lock()

    def offer(self, snap: Snapshot) -> bool:
        """Queue ``snap`` unless it is not newer than what this follower has, or not its
        user's to see; False if dropped."""
        if self.owner is not None and snap.owner != self.owner:
            return True
        with self._lock:
            if self.dropped or self.closed:
                return False
            newest = self.pending.get(snap.video_id)
            floor = max(self.sent.get(snap.video_id, 0), newest.seq if newest else 0)
            if snap.seq <= floor:
                return True
            now = time.monotonic()
            if self.waiting_since is not None and now - self.waiting_since > STALL_S:
                self.dropped = True
                self.pending.clear()
                self._wake.set()
                return False
            if newest is not None:
                self.counts["coalesced"] += 1
            self.pending[snap.video_id] = snap
            self.pending.move_to_end(snap.video_id)
            if self.waiting_since is None:
                self.waiting_since = now
            self._wake.set()
            return True

    def take(self, timeout: float) -> list[Snapshot]:
        """Wait up to ``timeout`` for news; return it in arrival order, oldest first."""
        if not self._wake.wait(timeout):
            return []
        with self._lock:
            self._wake.clear()
            taken = list(self.pending.values())
            self.pending.clear()
            self.waiting_since = None
            for snap in taken:
                self.sent[snap.video_id] = snap.seq
                if snap.terminal and not self.everything:
                    self.videos.discard(snap.video_id)
        self.counts["delivered"] += len(taken)
        return taken

    @property
    def finished(self) -> bool:
        """Following given videos, and every one of them has ended and been sent."""
        return not self.everything and not self.videos and not self.pending

    def forget(self, video_ids: Iterable[str]) -> None:
        """Stop following these videos, and drop what is waiting of them."""
        with self._lock:
            for video_id in video_ids:
                self.videos.discard(video_id)
                self.pending.pop(video_id, None)

    def close(self) -> None:
        """Take nothing more; a stream waiting in ``take`` wakes up."""
        self.closed = True
        self._wake.set()
