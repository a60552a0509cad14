"""The queue the parts travel on: Redis (the default) or RabbitMQ, named by
``TRANSCODER_BROKER_URL``. Redis keeps every other job of its own either way (the video
documents, leases, progress and the cache); only Celery's messages move.

Operators' tools ask it two things: how many messages wait in each queue (``/metrics``,
``transcoder autoscale``), and whether it answers (``/readyz``).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

import amqp
import redis

from transcoder.errors import Unavailable
from transcoder.records import redis_keys

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
RABBITMQ_SCHEMES = ("amqp://", "amqps://")
#: Seconds to wait for RabbitMQ before a check says it is unreachable.
CONNECT_TIMEOUT_S = 3.0


def kind(url: str) -> str:
    """``redis`` or ``rabbitmq``, from the URL's scheme; anything else is refused at start."""
    if url.startswith(REDIS_SCHEMES):
        return "redis"
    if url.startswith(RABBITMQ_SCHEMES):
        return "rabbitmq"
    raise ValueError(url)


def waiting(url: str, client: redis.Redis, names: Iterable[str]) -> dict[str, int]:
    """Messages waiting in each named queue: the list's length on Redis, the queue's
    ``message_count`` on RabbitMQ (a passive declare, which creates nothing; a queue no
    worker has declared yet holds nothing)."""
    names = list(names)
    if kind(url) == "redis":
        return {name: client.llen(redis_keys.queue_key(name)) for name in names}
    counts = {}
    with _rabbitmq(url) as conn:
        for name in names:
            channel = conn.channel()
            try:
                counts[name] = channel.queue_declare(queue=name, passive=True).message_count
                channel.close()
            except amqp.exceptions.NotFound:
                counts[name] = 0  # the server closed the channel
    return counts


def check(url: str, client: redis.Redis) -> None:
    """Raise ``Unavailable`` unless the broker answers now."""
    try:
        if kind(url) == "redis":
            client.ping()
            return
        with _rabbitmq(url):
            pass
    except redis.RedisError as exc:
        raise Unavailable(f"The broker does not answer: {exc}") from exc


def _rabbitmq(url: str) -> amqp.Connection:
    """A connection to RabbitMQ, opened (py-amqp: the client Celery's own transport uses)."""
    parts = urlsplit(url)
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    conn = amqp.Connection(
        host=f"{parts.hostname or '127.0.0.1'}:{parts.port or 5672}",
        userid=unquote(parts.username or "guest"),
        password=unquote(parts.password or "guest"),
        virtual_host=vhost,
        ssl=url.startswith("amqps://"),
        connect_timeout=CONNECT_TIMEOUT_S,
    )
    try:
        conn.connect()
    except (amqp.exceptions.AMQPError, OSError) as exc:
        raise Unavailable(f"The broker does not answer: {exc}") from exc
    return conn
