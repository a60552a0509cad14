"""Figures for operators, shared by every process through Redis.

Encodes happen in worker processes and uploads in any web process, but a scrape
reaches one web process: so counters and histograms live in Redis, and every web
process answers /metrics with the same cluster-wide numbers. Recording never stops
the work it describes: a Redis error is logged and the figure lost.
"""

from __future__ import annotations

import bisect
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import redis

from transcoder.errors import CatalogUnavailable
from transcoder.records import redis_keys, transitions
from transcoder.records.replies import as_text
from transcoder.records.states import VideoState
from transcoder.records.videos import VideoStore

log = logging.getLogger(__name__)

#: Upper bounds (seconds) of the encode-time histogram's buckets; +Inf is implied.
ENCODE_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


def _encode_key(kind: str) -> str:
    return f"{redis_keys.METRICS}:encode-seconds:{kind}"


def figure_key(name: str) -> str:
    """One shared counter (failures, refusals, uploads, lease-refusals, recoveries), named
    when used: the installation prefix is set at start, after this module is imported."""
    return f"{redis_keys.METRICS}:{name}"


def _quietly(action: str, client: redis.Redis, *commands: tuple[Any, ...]) -> None:
    try:
        with client.pipeline(transaction=False) as pipe:
            for name, *args in commands:
                getattr(pipe, name)(*args)
            pipe.execute()
    except redis.RedisError as exc:
        log.warning("metrics: %s not recorded (%s)", action, exc)


def record_encode(client: redis.Redis, kind: str, seconds: float) -> None:
    """How long one part took, by its kind (video, audio, join)."""
    index = bisect.bisect_left(ENCODE_BUCKETS, seconds)
    bucket = str(ENCODE_BUCKETS[index]) if index < len(ENCODE_BUCKETS) else "+Inf"
    key = _encode_key(kind)
    _quietly(
        "encode time",
        client,
        ("hincrby", key, bucket, 1),
        ("hincrby", key, "count", 1),
        ("hincrbyfloat", key, "sum", seconds),
        ("sadd", f"{redis_keys.METRICS}:part-kinds", kind),
    )


def record_failure(client: redis.Redis, code: str) -> None:
    """A part that failed for good, by the reason code its video shows."""
    _quietly("failure", client, ("hincrby", figure_key("failures"), code, 1))


def record_refusal(client: redis.Redis, code: str) -> None:
    """An upload refused before it became a video (not a video, too long...)."""
    _quietly("refusal", client, ("hincrby", figure_key("refusals"), code, 1))


def record_lease_refusal(client: redis.Redis) -> None:
    """A delivery of a part that another run was already running: the lease turned it away."""
    _quietly("lease refusal", client, ("incr", figure_key("lease-refusals")))


def record_recovery(client: redis.Redis, videos: int, parts: int) -> None:
    """Redis had lost its state: this many unfinished videos put back, this many parts sent again."""
    _quietly(
        "recovery",
        client,
        ("hincrby", figure_key("recoveries"), "videos", videos),
        ("hincrby", figure_key("recoveries"), "parts", parts),
    )


def record_upload(client: redis.Redis, size: int) -> None:
    key = figure_key("uploads")
    _quietly("upload", client, ("hincrby", key, "bytes", size), ("hincrby", key, "count", 1))


def record_reuse(client: redis.Redis, how: str) -> None:
    """An upload of bytes already encoded (``ready``) or encoding (``following``)."""
    _quietly("reuse", client, ("hincrby", figure_key("reuses"), how, 1))


@dataclass
class Histogram:
    buckets: list[tuple[str, int]]  # cumulative, as Prometheus wants them, ending with +Inf
    sum: float
    count: int


@dataclass
class Figures:
    """Everything /metrics shows, as read at one moment."""

    queues: dict[str, int]
    running: dict[str, int]
    videos: dict[str, int]
    encode: dict[str, Histogram] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)
    upload_bytes: int = 0
    uploads: int = 0
    lease_refusals: int = 0
    #: Uploads that reused outputs: ready (at once) or following (one still encoding).
    reuses: dict[str, int] = field(default_factory=dict)
    #: Reads served from Redis or from the database: hit, miss, page_hit, page_miss.
    cache: dict[str, int] = field(default_factory=dict)
    #: What recoveries did since Redis last lost its state: videos put back, parts sent again.
    recovered: dict[str, int] = field(default_factory=dict)


def read_figures(client: redis.Redis, videos: VideoStore, queues: dict[str, int]) -> Figures:
    """Everything /metrics shows, read now; ``queues`` are the broker's counts
    (``transcoder.brokers``' ``waiting``), as the broker may not be this Redis."""
    running = Counter(entry["kind"] for _, entry in transitions.running_parts(videos.active_videos()))
    try:
        by_state = videos.catalog.counts()
    except CatalogUnavailable:
        by_state = {}  # the readiness check says why
    encode = {}
    for kind in sorted(as_text(r) for r in client.smembers(f"{redis_keys.METRICS}:part-kinds")):
        raw = {as_text(k): v for k, v in client.hgetall(_encode_key(kind)).items()}
        total, buckets = 0, []
        for bound in [*map(str, ENCODE_BUCKETS), "+Inf"]:
            total += int(raw.get(bound, 0))
            buckets.append((bound, total))
        encode[kind] = Histogram(buckets, float(raw.get("sum", 0)), int(raw.get("count", 0)))
    uploads = {as_text(k): int(v) for k, v in client.hgetall(figure_key("uploads")).items()}
    return Figures(
        queues=queues,
        running=dict(running),
        videos={state: max(by_state.get(state, 0), 0) for state in VideoState},
        encode=encode,
        failures={as_text(k): int(v) for k, v in client.hgetall(figure_key("failures")).items()},
        refusals={as_text(k): int(v) for k, v in client.hgetall(figure_key("refusals")).items()},
        upload_bytes=uploads.get("bytes", 0),
        uploads=uploads.get("count", 0),
        lease_refusals=int(client.get(figure_key("lease-refusals")) or 0),
        reuses={as_text(k): int(v) for k, v in client.hgetall(figure_key("reuses")).items()},
        cache=videos.cache.counts(),
        recovered={as_text(k): int(v) for k, v in client.hgetall(figure_key("recoveries")).items()},
    )
