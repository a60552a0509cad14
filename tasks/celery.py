"""The Celery app that workers run and the web app sends to."""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from celery import Celery
from celery.signals import (
    celeryd_after_setup,
    worker_init,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)

from transcoder import brokers
from transcoder.errors import ConfigError
from transcoder.records.redis_keys import PARTS_QUEUE, URGENT_QUEUE
from transcoder.services import Services, build_services
from transcoder.settings import Settings
from transcoder.work import recovery

from . import sqs_transport
from .config import celery_config


def make_celery(settings: Settings) -> Celery:
    if brokers.of(settings).hold_seconds is not None:
        sqs_transport.use()  # the transport that keeps held messages hidden while renewed
    celery = Celery("transcoder", include=["tasks.transcode", "tasks.sweeper"])
    celery.conf.update(celery_config(settings))
    celery.conf.transcoder_settings = settings
    return celery


app = make_celery(Settings.from_env())

_services: Services | None = None
_stop_keeping = threading.Event()


def services() -> Services:
    """This process's clients, made on first use so each forked worker gets its own."""
    global _services
    if _services is None:
        _services = build_services(app.conf.transcoder_settings, patient=True)
    return _services


@worker_init.connect
def _prepare(**_: object) -> None:
    """Before the pool starts: the broker answers (or the worker stops, naming the setting),
    and the catalog's schema is brought up to date, once per worker."""
    prepared = build_services(app.conf.transcoder_settings, patient=True)
    try:
        brokers.of(prepared.settings).require(prepared.redis)
    except ConfigError as exc:
        print(exc.message, file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    recovery.prepare(prepared)
    prepared.catalog.engine.dispose()


@celeryd_after_setup.connect
def _urgent_with_parts(instance: Any, **_: object) -> None:
    """A worker that takes the parts queue takes the urgent parts too (SQS only has them
    apart), so ``--queues parts`` keeps meaning every encode."""
    queues = instance.app.amqp.queues
    if PARTS_QUEUE in queues.consume_from and URGENT_QUEUE in queues:
        queues.select_add(queues[URGENT_QUEUE])


@worker_ready.connect
def _keep_held_messages(sender: Any, **_: object) -> None:
    """Where the broker hides a received message only for a short hold (SQS), this worker
    keeps what it holds hidden from the others while it lives."""
    broker = brokers.of(app.conf.transcoder_settings)
    if broker.hold_seconds is not None:
        channel_of = lambda: getattr(sender.task_consumer, "channel", None)  # noqa: E731
        sqs_transport.keep_held(channel_of, broker.hide, broker.hold_seconds, _stop_keeping)


@worker_shutdown.connect
def _stop_keeping_held_messages(**_: object) -> None:
    _stop_keeping.set()


@worker_process_init.connect
def _fresh_clients(**_: object) -> None:
    global _services
    _services = None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
