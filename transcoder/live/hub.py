"""One Redis subscription per process, fanned out to every stream that process serves.

A web process may hold thousands of open event streams and WebSockets. Giving each
its own pub/sub connection and its own JSON parsing would cost a Redis connection and
a parse per stream per event, so a hub owns the one pattern subscription, parses and
renders each new snapshot once, and hands the rendered text to the followers of that
video. A follower keeps only the newest undelivered snapshot of each video it follows
(snapshots are whole states, so a newer one says everything an older one did): a slow
reader costs at most one pending snapshot per video and never delays anyone else, and
one that stops reading altogether is dropped.

Pub/sub is at-most-once: once a dropped subscription is made again (by redis-py itself,
inside a read, or by the hub when redis-py gave up), and every ``resync_s`` while it is
up, the hub re-reads the stored snapshots of the videos it follows and passes on any it
had missed, so every follower still sees every video's final state.

Plain ``threading`` primitives are used, so the hub runs the same under threads and
under gevent (which turns them into greenlets).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable

import redis

from transcoder.live.follower import Follower, Snapshot
from transcoder.records import redis_keys
from transcoder.records.states import TERMINAL, Video
from transcoder.records.videos import VideoStore

log = logging.getLogger(__name__)

#: How many videos a hub remembers the newest seq of (to drop duplicates and stale news).
REMEMBERED = 20_000


class Hub:
    """The process's one subscription to every video's channel, and its followers."""

    def __init__(
        self,
        client: redis.Redis,
        store: VideoStore,
        render: Callable[[Video], str],
        resync_s: float = 5.0,
    ) -> None:
        self.redis = client
        self.store = store
        self.render = render
        self.resync_s = resync_s
        self.counts: Counter[str] = Counter(delivered=0, dropped=0, coalesced=0, received=0, resyncs=0)
        self.connected = False
        self._followers: set[Follower] = set()
        self._by_video: dict[str, set[Follower]] = {}
        self._everything: set[Follower] = set()
        self._newest: OrderedDict[str, Snapshot] = OrderedDict()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        #: Set when the subscription is new or was made again: a resync is due.
        self._missed = threading.Event()

    # -- followers -------------------------------------------------------------------

    def follow(
        self, video_ids: Iterable[str] | None, seen: dict[str, int] | None = None, owner: str | None = None
    ) -> tuple[Follower, list[str]]:
        """A follower of these videos (None: of every video; with ``owner``, of every video
        of that user's), their snapshots queued, with the subscription started. Returns the
        follower and the ids that name no video (or none of ``owner``'s)."""
        self.start()
        return self.register(video_ids, seen, owner)

    def register(
        self, video_ids: Iterable[str] | None, seen: dict[str, int] | None = None, owner: str | None = None
    ) -> tuple[Follower, list[str]]:
        """``follow`` without starting the subscription (for callers that publish themselves).

        The follower is registered before the snapshots are read, so a change published
        in between reaches it (and the older of the two is dropped by its seq). ``seen``
        holds seqs the client already has, which are not sent again.
        """
        follower = Follower(self.counts, [], seen, owner)
        with self._lock:
            self._followers.add(follower)
        if video_ids is None:
            self.follow_everything(follower, True)
            return follower, []
        return follower, self.add(follower, video_ids)

    @property
    def followers(self) -> int:
        return len(self._followers)

    @property
    def indexed_videos(self) -> int:
        """How many videos some follower follows by id (0 once every follower has gone)."""
        with self._lock:
            return len(self._by_video)

    def add(self, follower: Follower, video_ids: Iterable[str]) -> list[str]:
        """``follower`` follows more videos; their current snapshots are queued for it.
        Returns the ids that name no video."""
        video_ids = [v for v in video_ids if v not in follower.videos]
        follower.videos.update(video_ids)
        self._index(follower, video_ids)
        return self.refresh(video_ids, follower)

    def follow_everything(self, follower: Follower, on: bool) -> None:
        """``follower`` follows every video (the library), or only those named.

        On, the snapshots of the videos still running are queued first.
        """
        follower.everything = on
        with self._lock:
            if on:
                self._everything.add(follower)
            else:
                self._everything.discard(follower)
        if on:
            self.refresh(self.store.active(), follower)

    def remove(self, follower: Follower, video_ids: Iterable[str]) -> None:
        """``follower`` stops following these videos."""
        video_ids = list(video_ids)
        follower.forget(video_ids)
        self._unindex(follower, video_ids)

    def close(self, follower: Follower) -> None:
        """The stream of ``follower`` has ended: it is forgotten and takes nothing more."""
        follower.close()
        self._forget(follower)

    def _index(self, follower: Follower, video_ids: Iterable[str]) -> None:
        with self._lock:
            for video_id in video_ids:
                self._by_video.setdefault(video_id, set()).add(follower)

    def _unindex(self, follower: Follower, video_ids: Iterable[str]) -> None:
        with self._lock:
            for video_id in video_ids:
                group = self._by_video.get(video_id)
                if group is not None:
                    group.discard(follower)
                    if not group:
                        del self._by_video[video_id]

    def _forget(self, follower: Follower) -> None:
        self._unindex(follower, list(follower.videos))
        with self._lock:
            self._followers.discard(follower)
            self._everything.discard(follower)

    # -- news ------------------------------------------------------------------------

    def publish(self, video: Video) -> Snapshot | None:
        """Pass a snapshot to its followers if it is newer than the last one seen."""
        video_id, seq = video["id"], video["seq"]
        with self._lock:
            known = self._newest.get(video_id)
            if known is not None and known.seq >= seq:
                return known
            targets = set(self._by_video.get(video_id, ())) | self._everything
        snap = Snapshot(video_id, seq, video["state"] in TERMINAL, self.render(video), video.get("owner"))
        with self._lock:
            self._newest[video_id] = snap
            self._newest.move_to_end(video_id)
            while len(self._newest) > REMEMBERED:
                self._newest.popitem(last=False)
        for follower in targets:
            if not follower.offer(snap):
                self.counts["dropped"] += 1
                self._forget(follower)
        return snap

    def refresh(self, video_ids: list[str], follower: Follower | None = None) -> list[str]:
        """Read stored snapshots: pass on any missed, queue each for ``follower``.

        Returns the ids that name no video.
        """
        if not video_ids:
            return []
        found = {v["id"]: v for v in self.store.many(video_ids)}
        if follower is not None and follower.owner is not None:  # another's is not confirmed
            found = {i: v for i, v in found.items() if v.get("owner") == follower.owner}
        missing = []
        for video_id in video_ids:
            if video_id not in found:
                missing.append(video_id)
                continue
            snap = self.publish(found[video_id])
            if follower is not None and snap is not None:
                follower.offer(snap)
        return missing

    # -- the subscription ------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="transcoder-hub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(redis_keys.events_channel("*"))
                # redis-py connects a dropped subscription again by itself, inside
                # get_message, and subscribes it again: this hears of it, as of a new one.
                assert pubsub.connection is not None  # made by psubscribe
                pubsub.connection.register_connect_callback(self._reconnected)
                self.connected = True
                backoff = 0.1
                self._missed.set()
                last_resync = time.monotonic()
                while not self._stop.is_set():
                    if self._missed.is_set():
                        self._missed.clear()
                        self._resync()  # whatever was published while not subscribed
                        last_resync = time.monotonic()
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "pmessage":
                        self.counts["received"] += 1
                        self.publish(json.loads(message["data"]))
                        # Let the followers just woken send it before the next message is
                        # read (under gevent, a burst would otherwise be read all at once).
                        time.sleep(0)
                    if time.monotonic() - last_resync >= self.resync_s:
                        self._resync()
                        last_resync = time.monotonic()
            except (redis.RedisError, OSError) as exc:
                self.connected = False
                log.warning("hub: the subscription dropped (%s); subscribing again", exc)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)
            except Exception:  # a bad message must not end every stream of this process
                log.exception("hub: unexpected error; subscribing again")
                self._stop.wait(backoff)
            finally:
                if pubsub.connection is not None:
                    pubsub.connection.deregister_connect_callback(self._reconnected)
                try:
                    pubsub.close()
                except (redis.RedisError, OSError):
                    pass
        self.connected = False

    def _reconnected(self, connection: object) -> None:
        """The subscription's connection was made again: what was published while it was
        down is re-read before the next message (called inside redis-py's reconnect)."""
        self._missed.set()

    def _resync(self) -> None:
        """Re-read every followed video that has not ended, and the running ones."""
        with self._lock:
            followed = {v for v in self._by_video if not (s := self._newest.get(v)) or not s.terminal}
            everything = bool(self._everything)
        if everything:
            followed.update(self.store.active())
            # The newest too: one that ended while the subscription was down is no longer active.
            followed.update(self.store.page_ids(limit=20)[0])
        self.counts["resyncs"] += 1
        ids = sorted(followed)
        for start in range(0, len(ids), 500):
            self.refresh(ids[start : start + 500])
