"""What every broker is asked, in one small interface (``Broker``); each broker's module
says how it answers."""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import urlsplit

import redis

from transcoder.errors import ConfigError, Unavailable
from transcoder.records import redis_keys
from transcoder.settings import PREFIX, Settings

#: Seconds to wait for RabbitMQ or SQS before a check says it is unreachable.
CONNECT_TIMEOUT_S = 3.0


class Broker(ABC):
    """One broker, as this installation's settings name it."""

    #: What TRANSCODER_BROKER_URL starts with for this broker.
    schemes: ClassVar[tuple[str, ...]]
    #: A service apart from the Redis every process needs, so checked on its own at start and
    #: in ``/readyz`` (the Redis broker is that Redis, checked and waited for as Redis).
    apart: ClassVar[bool] = True
    #: Its queues hand messages out in the order they were sent. SQS's do not, so there the
    #: parts that make a video playable travel on a queue of their own (``queues``).
    keeps_order: ClassVar[bool] = True
    #: The pip extra its kombu transport needs (``pyproject.toml``), installed by `make run`
    #: only for installations that choose this broker, and the module that shows it is there.
    extra: ClassVar[tuple[str, str] | None] = None

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def queues(self) -> tuple[str, ...]:
        """The queues of this broker: where queues keep no order, the urgent parts have one
        of their own."""
        if self.keeps_order:
            return redis_keys.QUEUES
        return (redis_keys.URGENT_QUEUE, *redis_keys.QUEUES)

    @abstractmethod
    def waiting(self, client: redis.Redis, names: Iterable[str]) -> dict[str, int]:
        """Messages waiting in each named queue; a queue no worker has made yet holds none.
        ``client`` is the installation's Redis."""

    @abstractmethod
    def check(self, client: redis.Redis) -> None:
        """Raise ``Unavailable`` unless the broker answers now (``ConfigError`` if it never
        will, as SQS with no credentials)."""

    def require(self, client: redis.Redis) -> None:
        """At start: a broker apart from Redis must answer now, or the process stops with one
        line naming the setting, rather than retrying in silence (the Redis broker is the
        Redis every process needs anyway, and is waited for as before)."""
        if not self.apart:
            return
        try:
            self.check(client)
        except Unavailable as exc:
            url = shown(self.settings.broker_url)
            raise ConfigError(f"{PREFIX}BROKER_URL={url} cannot be used: {exc.message}") from exc

    def celery_url(self) -> str:
        """The broker URL as kombu reads it."""
        return self.settings.broker_url

    @abstractmethod
    def transport_options(self) -> dict[str, Any]:
        """What kombu's transport for this broker needs beyond its URL."""

    @property
    def hold_seconds(self) -> int | None:
        """Seconds a message a worker received stays hidden from the others unless the worker
        renews it (``tasks.sqs_transport``); None where the broker keeps it from the others by
        itself for as long as any healthy run."""
        return None

    def hide(self, queue_url: str, receipt: str, seconds: int) -> None:
        """Keep a message a worker holds hidden ``seconds`` more (brokers with a hold only)."""
        raise NotImplementedError(f"{type(self).__name__} holds messages for as long as a run")

    def missing_extra(self) -> str | None:
        """The pip extra this broker needs that is not installed, if any."""
        if self.extra is None or importlib.util.find_spec(self.extra[1]) is not None:
            return None
        return self.extra[0]


def shown(url: str) -> str:
    """The URL without its password or secret key, for messages and logs."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)
