"""The queue the parts travel on: Redis (the default), RabbitMQ or Amazon SQS, named by
``TRANSCODER_BROKER_URL``. One module per broker (``redis``, ``rabbitmq``, ``sqs``), each a
``Broker``: what the rest of the code asks of a broker is asked here, so no other module
tells the brokers apart (as dramatiq's ``brokers/``). Redis keeps every other job of its own
either way (the video documents, leases, progress and the cache); only Celery's messages move.

Operators' tools ask a broker how many messages wait in each queue (``/metrics``,
``transcoder autoscale``) and whether it answers (``/readyz``, and at start: the web app,
each worker and `make run`); Celery asks it for its URL, options and queues
(``tasks.config``). The kombu side of SQS, which needs kombu, is ``tasks.sqs_transport``.

May import: ``transcoder.records``, ``transcoder.settings`` and ``transcoder.errors``.
"""

from __future__ import annotations

from transcoder.brokers.base import Broker, shown
from transcoder.brokers.rabbitmq import RabbitMQ
from transcoder.brokers.redis import RedisBroker
from transcoder.brokers.sqs import SQS
from transcoder.settings import Settings

__all__ = ["Broker", "RabbitMQ", "RedisBroker", "SQS", "named", "of", "shown"]

#: Every broker, in the order the README names them.
BROKERS: tuple[type[Broker], ...] = (RedisBroker, RabbitMQ, SQS)


def named(url: str) -> type[Broker]:
    """The broker a URL names, from its scheme; anything else is refused at start
    (``Settings.validate``)."""
    for broker in BROKERS:
        if url.startswith(broker.schemes):
            return broker
    raise ValueError(url)


def of(settings: Settings) -> Broker:
    """This installation's broker."""
    return named(settings.broker_url)(settings)
