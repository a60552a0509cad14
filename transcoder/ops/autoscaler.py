"""Keep the number of local ``celery worker`` processes following the work waiting.

The rule is KEDA's Redis list scaler, so one machine scales as a cluster would:
``ceil(length of the parts list / per_worker)`` workers, within min and max. Workers
are only ever added, or stopped once idle by a warm shutdown (SIGTERM: Celery takes
no new message and lets any running task finish), so scaling never kills an encode.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import redis

from transcoder.errors import ConfigError
from transcoder.records import redis_keys, transitions
from transcoder.records.videos import VideoStore

log = logging.getLogger(__name__)


def desired(waiting: int, minimum: int, maximum: int, per_worker: int) -> int:
    """How many workers the waiting messages call for (KEDA: ceil(listLength / listLength target))."""
    return max(minimum, min(maximum, math.ceil(waiting / per_worker)))


def busy_workers(videos: VideoStore) -> set[str]:
    """Workers running a part right now, as the videos' records say."""
    running = transitions.running_parts(videos.active_videos())
    return {entry["worker"] for _, entry in running if entry["worker"] is not None}


@dataclass
class Decision:
    """One look at the queue, and what was done about it; logged as one JSON line."""

    at: float
    waiting: int
    workers: int
    busy: int
    stopping: int
    target: int
    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)


@dataclass
class WorkerProcess:
    name: str
    proc: subprocess.Popen[bytes]
    started_at: float
    stopping: bool = False


def celery_command(name: str, queues: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--queues", queues,
            "--concurrency", "1", "--hostname", name, "--loglevel", "INFO"]  # fmt: skip


class Autoscaler:
    def __init__(
        self,
        client: redis.Redis,
        videos: VideoStore,
        *,
        minimum: int,
        maximum: int,
        per_worker: int,
        waiting: Callable[[], int],
        queues: str = ",".join(redis_keys.QUEUES),
        cooldown: float = 30.0,
        launch: Callable[[str, str], subprocess.Popen[bytes]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= minimum <= maximum or maximum < 1 or per_worker < 1:
            raise ConfigError("The autoscaler needs 0 <= --min <= --max, --max >= 1 and --per-worker >= 1.")
        self.client, self.videos = client, videos
        self.minimum, self.maximum, self.per_worker = minimum, maximum, per_worker
        self.queues, self.cooldown, self.clock = queues, cooldown, clock
        #: Parts waiting in the broker, counted the broker's way (``transcoder.brokers``).
        self.waiting = waiting
        self.launch = launch or (lambda name, queues: subprocess.Popen(celery_command(name, queues)))
        self.workers: list[WorkerProcess] = []
        self.count = 0
        self.low_since: float | None = None
        self.host = socket.gethostname()

    def step(self) -> Decision:
        """Look once and act: start workers at once, stop idle ones after the cooldown."""
        self.workers = [w for w in self.workers if w.proc.poll() is None]
        live = [w for w in self.workers if not w.stopping]
        waiting = self.waiting()
        busy = busy_workers(self.videos)
        target = desired(waiting, self.minimum, self.maximum, self.per_worker)
        stopping = len(self.workers) - len(live)
        decision = Decision(
            time.time(), waiting, len(live), len(busy & {w.name for w in live}), stopping, target
        )
        now = self.clock()
        if target > len(live):
            self.low_since = None
            for _ in range(target - len(live)):
                decision.started.append(self._start().name)
        elif target < len(live):
            self.low_since = self.low_since if self.low_since is not None else now
            if now - self.low_since >= self.cooldown:
                idle = [w for w in live if w.name not in busy and now - w.started_at >= self.cooldown]
                for worker in idle[: len(live) - target]:
                    worker.proc.send_signal(signal.SIGTERM)  # warm shutdown: finish, take nothing new
                    worker.stopping = True
                    decision.stopped.append(worker.name)
        else:
            self.low_since = None
        return decision

    def _start(self) -> WorkerProcess:
        self.count += 1
        name = f"auto{self.count}-{os.getpid()}@{self.host}"
        worker = WorkerProcess(name, self.launch(name, self.queues), self.clock())
        self.workers.append(worker)
        return worker

    def run(self, interval: float, stop: threading.Event, out: Callable[[str], None] = print) -> None:
        """Check every ``interval`` seconds until ``stop``; print each decision that changed something
        or saw something new, then stop every worker gracefully."""
        last = None
        try:
            while not stop.is_set():
                decision = self.step()
                seen = (decision.waiting, decision.workers, decision.busy, decision.stopping, decision.target)
                if decision.started or decision.stopped or seen != last:
                    out(json.dumps(asdict(decision)))
                last = seen
                stop.wait(interval)
        finally:
            self.shutdown()

    def shutdown(self, timeout: float = 600.0) -> None:
        for worker in self.workers:
            if worker.proc.poll() is None:
                worker.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            try:
                worker.proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                log.warning("worker %s did not stop within %g s", worker.name, timeout)
