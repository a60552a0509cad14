"""What operators' tools poll: ``/metrics`` (Prometheus), ``/healthz`` and ``/readyz``.

Cluster-wide figures (queues, running parts, videos, encode times, failures, uploads)
are read from Redis at each scrape (``transcoder.ops.metrics``), so every web process
answers the same. Only the live streams' figures are this process's own.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
from collections.abc import Iterator

import redis
from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from transcoder import brokers
from transcoder.errors import TranscoderError, Unauthorized, Unavailable
from transcoder.ops import durability, metrics
from transcoder.services import Services

from .middleware.hosts import host_allowed
from .services import services

bp = Blueprint("ops", __name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ClusterCollector(Collector):
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def collect(self) -> Iterator[Metric]:
        try:
            broker = brokers.of(self.svc.settings)
            queues = broker.waiting(self.svc.redis, broker.queues())
        except TranscoderError:
            queues = {}  # unreachable, or its keys gone: /readyz says why
        snap = metrics.read_figures(self.svc.redis, self.svc.videos, queues)
        yield _family(
            GaugeMetricFamily, "queue_depth", "Messages waiting in each queue.", "queue", snap.queues
        )
        yield _family(
            GaugeMetricFamily,
            "parts_running",
            "Parts running now, by kind (video, audio, join).",
            "kind",
            snap.running,
        )
        yield _family(GaugeMetricFamily, "videos", "Videos in each state.", "state", snap.videos)
        encode = HistogramMetricFamily(
            "transcoder_encode_seconds",
            "Time to run one part, by kind (video, audio, join).",
            labels=["kind"],
        )
        for kind, hist in snap.encode.items():
            encode.add_metric([kind], hist.buckets, hist.sum)
        yield encode
        yield _family(
            CounterMetricFamily, "failures", "Parts failed for good, by reason.", "code", snap.failures
        )
        yield _family(
            CounterMetricFamily, "uploads_refused", "Uploads refused, by reason.", "code", snap.refusals
        )
        yield CounterMetricFamily(
            "transcoder_upload_bytes", "Bytes of accepted uploads.", value=snap.upload_bytes
        )
        yield CounterMetricFamily("transcoder_uploads", "Accepted uploads.", value=snap.uploads)
        yield _family(
            CounterMetricFamily,
            "uploads_reused",
            "Uploads of bytes already encoded (ready at once) or encoding (following).",
            "how",
            snap.reuses,
        )
        yield CounterMetricFamily(
            "transcoder_lease_refusals",
            "Deliveries of a part already running elsewhere, turned away by its lease.",
            value=snap.lease_refusals,
        )
        yield _family(
            CounterMetricFamily,
            "cache_reads",
            "Reads of videos (hit, miss) and library pages (page_hit, page_miss) from Redis; "
            "a miss went to the database.",
            "outcome",
            {k: snap.cache.get(k, 0) for k in ("hit", "miss", "page_hit", "page_miss")},
        )
        yield _family(
            CounterMetricFamily,
            "recovered",
            "After Redis lost its state: unfinished videos put back from the database (videos) "
            "and their parts sent again (parts).",
            "what",
            {k: snap.recovered.get(k, 0) for k in ("videos", "parts")},
        )


def _family(kind: type, name: str, doc: str, label: str, values: dict[str, int]) -> Metric:
    family = kind(f"transcoder_{name}", doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


class StreamCollector(Collector):
    """This process's live streams, from its per-client cap and its hub (``web.live.streams``)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        cap, hub = self.app.extensions["stream_cap"], self.app.extensions["hub"]
        yield _family(
            GaugeMetricFamily,
            "streams_open",
            "Live streams open on this web process, by kind (sse, ws).",
            "kind",
            dict(cap.by_kind),
        )
        counts = hub.counts
        yield _family(
            CounterMetricFamily,
            "stream_events",
            "Snapshots this process's streams sent (delivered), or replaced by a newer one "
            "before a slow client took them (coalesced).",
            "outcome",
            {"delivered": counts["delivered"], "coalesced": counts["coalesced"]},
        )
        yield CounterMetricFamily(
            "transcoder_streams_dropped",
            "Streams closed because their client stopped taking what was sent.",
            value=counts["dropped"],
        )
        yield GaugeMetricFamily(
            "transcoder_stream_followers",
            "Followers registered with this process's hub.",
            value=hub.followers,
        )


def init_app(app: Flask) -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ClusterCollector(app.extensions["transcoder"]))
    registry.register(StreamCollector(app))
    app.extensions["metrics"] = {"registry": registry}
    app.register_blueprint(bp)


@bp.get("/metrics")
def scrape() -> Response:
    """The figures, for Prometheus with ``TRANSCODER_METRICS_TOKEN``, or for a tool on this
    machine: they tell how many uploads there are and how big (one uploader's file size
    shows as a jump on a quiet server), so a stranger gets 401."""
    settings = services().settings
    if not may_scrape(
        request.headers.get("Authorization", ""),
        settings.metrics_token,
        request.remote_addr,
        request.host,
        settings.host_names,
    ):
        raise Unauthorized(
            "Send TRANSCODER_METRICS_TOKEN as 'Authorization: Bearer <token>' "
            "(Prometheus: authorization credentials), or ask from this machine."
        )
    try:
        body = generate_latest(current_app.extensions["metrics"]["registry"])
    except redis.RedisError as exc:
        raise Unavailable("Redis cannot be reached; no figures now.") from exc
    return Response(body, content_type=CONTENT_TYPE)


def may_scrape(
    authorization: str, token: str, remote_addr: str | None, host: str, names: tuple[str, ...]
) -> bool:
    """Whether a scrape is answered: the token as a bearer credential (from anywhere, under
    any host name: Prometheus sends the pod's address), or a request from loopback under a
    host name this server answers to (a DNS-rebinding page in a browser on this machine
    names another host). Behind trusted proxies ``remote_addr`` is the client's, not the
    proxy's, so a proxy on this machine does not make every client local.

    The token is compared as bytes in constant time: the header arrives as latin-1 text,
    whatever bytes it held, so nothing in it can fail to encode."""
    scheme, _, sent = authorization.partition(" ")
    if token and scheme.lower() == "bearer":
        if hmac.compare_digest(sent.strip().encode("latin-1", "replace"), token.encode("utf-8")):
            return True
    return _loopback(remote_addr) and host_allowed(host, names)


def _loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False  # a Unix socket's peer has none
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up (liveness; `make run` polls this)."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> tuple[dict, int]:
    """Ready for traffic: Redis and the database answer, and storage can be written or reached."""
    svc, checks = services(), {}
    try:
        svc.redis.ping()
        checks["redis"] = "ok"
    except redis.RedisError as exc:
        checks["redis"] = f"unreachable: {exc}"
    broker = brokers.of(svc.settings)
    if broker.apart:
        try:
            broker.check(svc.redis)
            checks["broker"] = "ok"
        except TranscoderError as exc:
            checks["broker"] = f"unreachable: {exc.message}"
    try:
        svc.catalog.counts()
        checks["database"] = "ok"
    except TranscoderError as exc:
        checks["database"] = f"unreachable: {exc.message}"
    try:
        svc.storage.check()
        checks["storage"] = "ok"
    except (TranscoderError, OSError) as exc:
        checks["storage"] = f"unavailable: {getattr(exc, 'message', exc)}"
    ready = all(v == "ok" for v in checks.values())
    body: dict = {"status": "ready" if ready else "not ready", "checks": checks}
    # Not a reason to refuse traffic, but one to tell the operator.
    with contextlib.suppress(redis.RedisError):
        if line := durability.warning(svc.redis):
            body["warnings"] = [line]
    return body, 200 if ready else 503
