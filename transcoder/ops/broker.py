"""The queue the parts travel on: Redis (the default), RabbitMQ or Amazon SQS, named by
``TRANSCODER_BROKER_URL``. Redis keeps every other job of its own either way (the video
documents, leases, progress and the cache); only Celery's messages move.

Operators' tools ask it two things: how many messages wait in each queue (``/metrics``,
``transcoder autoscale``), and whether it answers (``/readyz``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

import amqp
import boto3
import botocore.exceptions
import redis
from botocore.config import Config

from transcoder.errors import ConfigError, Unavailable
from transcoder.records import redis_keys
from transcoder.settings import PREFIX, RABBITMQ_SCHEMES, REDIS_SCHEMES, SQS_SCHEME, Settings

#: Seconds to wait for RabbitMQ or SQS before a check says it is unreachable.
CONNECT_TIMEOUT_S = 3.0


def kind(url: str) -> str:
    """``redis``, ``rabbitmq`` or ``sqs``, from the URL's scheme; anything else is refused at start."""
    if url.startswith(REDIS_SCHEMES):
        return "redis"
    if url.startswith(RABBITMQ_SCHEMES):
        return "rabbitmq"
    if url.startswith(SQS_SCHEME):
        return "sqs"
    raise ValueError(url)


def queues(url: str) -> tuple[str, ...]:
    """The queues of this broker: on SQS, the urgent parts have one of their own."""
    if kind(url) == "sqs":
        return (redis_keys.URGENT_QUEUE, *redis_keys.QUEUES)
    return redis_keys.QUEUES


def waiting(settings: Settings, client: redis.Redis, names: Iterable[str]) -> dict[str, int]:
    """Messages waiting in each named queue: the list's length on Redis, the queue's
    ``message_count`` on RabbitMQ (a passive declare, which creates nothing), SQS's
    ``ApproximateNumberOfMessages``. A queue no worker has made yet holds nothing."""
    names, url = list(names), settings.broker_url
    if kind(url) == "redis":
        return {name: client.llen(redis_keys.queue_key(name)) for name in names}
    if kind(url) == "sqs":
        return _sqs_waiting(settings, names)
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


def check(settings: Settings, client: redis.Redis) -> None:
    """Raise ``Unavailable`` unless the broker answers now (``ConfigError`` if it never will:
    SQS with no credentials)."""
    url = settings.broker_url
    try:
        if kind(url) == "redis":
            client.ping()
        elif kind(url) == "sqs":
            _sqs_call(lambda sqs: sqs.list_queues(QueueNamePrefix=settings.sqs_queue_prefix, MaxResults=1),
                      settings)  # fmt: skip
        else:
            with _rabbitmq(url):
                pass
    except redis.RedisError as exc:
        raise Unavailable(f"The broker does not answer: {exc}") from exc


def sqs_client(settings: Settings) -> Any:
    """A boto3 SQS client for the broker: the keys in the URL (sqs://KEY:SECRET@), else
    boto3's own chain; SQS_ENDPOINT_URL, else AWS's endpoint for SQS_REGION."""
    parts = urlsplit(settings.broker_url)
    return boto3.client(
        "sqs",
        endpoint_url=settings.sqs_endpoint_url or None,
        region_name=settings.sqs_region or None,
        aws_access_key_id=unquote(parts.username) if parts.username else None,
        aws_secret_access_key=unquote(parts.password) if parts.password else None,
        config=Config(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=10, retries={"max_attempts": 2}),
    )


def _sqs_waiting(settings: Settings, names: list[str]) -> dict[str, int]:
    def count(sqs: Any, name: str) -> int:
        try:
            queue_url = sqs.get_queue_url(QueueName=settings.sqs_queue_prefix + name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            return 0
        found = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(found["Attributes"]["ApproximateNumberOfMessages"])

    return _sqs_call(lambda sqs: {name: count(sqs, name) for name in names}, settings)


def _sqs_call(call: Any, settings: Settings) -> Any:
    try:
        return call(sqs_client(settings))
    except botocore.exceptions.NoCredentialsError as exc:
        raise ConfigError(
            f"{PREFIX}BROKER_URL is sqs:// but no AWS credentials were found: put them in the URL "
            "(sqs://KEY:SECRET@) or where boto3 looks (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "~/.aws, an instance role)"
        ) from exc
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
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
    except amqp.exceptions.AccessRefused as exc:
        raise Unavailable(f"RabbitMQ refused the user and password in the URL: {exc}") from exc
    except (amqp.exceptions.AMQPError, OSError) as exc:
        raise Unavailable(f"The broker does not answer: {exc}") from exc
    return conn


def require(settings: Settings, client: redis.Redis) -> None:
    """At start: RabbitMQ or SQS must answer now, or the process stops with one line naming
    the setting, rather than retrying in silence (the Redis broker is the Redis every
    process needs anyway, and is waited for as before)."""
    if kind(settings.broker_url) == "redis":
        return
    try:
        check(settings, client)
    except Unavailable as exc:
        url = shown(settings.broker_url)
        raise ConfigError(f"{PREFIX}BROKER_URL={url} cannot be used: {exc.message}") from exc


def shown(url: str) -> str:
    """The URL without its password or secret key, for messages and logs."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def main() -> int:
    """``python -m transcoder.ops.broker``: `make run` asks before it starts anything."""
    try:
        settings = Settings.from_env()
        require(settings, redis.Redis.from_url(settings.redis_url))
    except ConfigError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
