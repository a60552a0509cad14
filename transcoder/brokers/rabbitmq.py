"""RabbitMQ as the broker (``amqp://`` or ``amqps://``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

import amqp
import redis

from transcoder.brokers.base import CONNECT_TIMEOUT_S, Broker
from transcoder.errors import Unavailable
from transcoder.settings import RABBITMQ_SCHEMES


class RabbitMQ(Broker):
    schemes = RABBITMQ_SCHEMES

    def waiting(self, client: redis.Redis, names: Iterable[str]) -> dict[str, int]:
        """Each queue's ``message_count``, by a passive declare, which creates nothing."""
        counts = {}
        with self.connect() as conn:
            for name in names:
                channel = conn.channel()
                try:
                    counts[name] = channel.queue_declare(queue=name, passive=True).message_count
                    channel.close()
                except amqp.exceptions.NotFound:
                    counts[name] = 0  # the server closed the channel
        return counts

    def check(self, client: redis.Redis) -> None:
        with self.connect():
            pass

    def transport_options(self) -> dict[str, Any]:
        """RabbitMQ acknowledges for real (no timeout to outlast) and confirms each message it
        stored; an installation's queues are kept apart by its vhost."""
        return {"confirm_publish": True}

    def connect(self) -> amqp.Connection:
        """A connection to RabbitMQ, opened (py-amqp: the client Celery's own transport uses)."""
        url = self.settings.broker_url
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
