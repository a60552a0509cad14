"""Celery settings, derived from our settings by one pure function.

Choices follow Celery's guidance for long, idempotent tasks on a Redis broker:

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged
  only after its task ends, and re-queued if the worker process dies mid-encode.
  Part tasks are idempotent (a finished part is a no-op), so a re-run is safe.
- ``worker_prefetch_multiplier=1``: a worker process holds one message at a time,
  so a second worker can take the next part instead of it waiting in a buffer.
- soft time limit < hard time limit < visibility timeout: Redis and SQS hand out
  again a message not acknowledged within the visibility timeout, so that must
  outlast any healthy run (``Settings.visibility_timeout``). It is set in all three
  places Celery reads it.
- ``worker_cancel_long_running_tasks_on_connection_loss=False``: when the broker
  connection drops (a Redis restart), running encodes go on instead of being
  cancelled and started over. A copy of the message that Redis hands out again
  meanwhile is turned away by the part's lease, and one that comes after the part
  ended finds it done; so a restart of a few seconds costs no re-encode (fault trial 4).
- ``result_expires``: the results Celery keeps (no video's work waits on one; parts are
  sent with ``ignore_result`` and ended by the atomic update in
  ``transcoder.records.videos``) last as long as a video's run counts, then go.
- ``worker_soft_shutdown_timeout``: on a stop, a worker gives running encodes this
  long to finish before it cancels them and hands their messages back to Redis.
- Two queues, named in ``transcoder.records.redis_keys``: ``parts`` (every part of a video's work)
  and ``finalize`` (closing a video, which never waits behind long encodes); on SQS a
  third, ``urgent``, for the parts that make a video playable (``tasks.workflow``).
  Each has its own direct exchange and routing key; left to the defaults, both
  would be bound to the default exchange under one key, and a message could be
  copied into both.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from kombu import Exchange, Queue

from transcoder.ops import broker
from transcoder.records import redis_keys
from transcoder.records.redis_keys import FINALIZE_QUEUE, PARTS_QUEUE
from transcoder.settings import Settings

from . import sqs_transport

PART_TASK = "tasks.transcode.part"
CLOSE_TASK = "tasks.transcode.close"

#: Seconds a stopping worker lets running encodes go on before handing them back.
SOFT_SHUTDOWN_S = 30.0
#: SQS: seconds one receive waits for a message before it answers empty (long polling: a
#: message is taken the moment it arrives, and an idle worker asks each queue about six
#: times a minute); and seconds between looks at a queue while the worker is busy (no
#: request is made then, so a short wait costs nothing, and a slot that frees up is
#: filled at once) or after an empty answer.
SQS_WAIT_S = 10
SQS_POLL_S = 0.01


def celery_config(settings: Settings) -> dict[str, Any]:
    hard_limit, visibility = settings.hard_time_limit, settings.visibility_timeout
    redis_keys.use(settings.redis_prefix)
    # Celery's queues, results and bookkeeping under the installation's prefix too.
    prefix = {"global_keyprefix": redis_keys.queue_key("")}
    return {
        "broker_url": celery_broker_url(settings),
        "result_backend": settings.redis_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": transport_options(settings),
        "result_backend_transport_options": {"visibility_timeout": visibility, **prefix},
        "visibility_timeout": visibility,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": settings.task_time_limit,
        "task_time_limit": hard_limit,
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "worker_soft_shutdown_timeout": SOFT_SHUTDOWN_S,
        "worker_enable_soft_shutdown_on_idle": True,
        "result_expires": redis_keys.FLAG_TTL + 24 * 3600,
        "task_queues": tuple(_queue(name) for name in broker.queues(settings.broker_url)),
        "task_default_queue": FINALIZE_QUEUE,
        "task_create_missing_queues": False,
        "task_routes": {
            PART_TASK: {"queue": PARTS_QUEUE},
            CLOSE_TASK: {"queue": FINALIZE_QUEUE},
        },
        "worker_hijack_root_logger": False,
    }


def celery_broker_url(settings: Settings) -> str:
    """The broker URL as kombu reads it: for SQS, kombu takes the endpoint from the URL's
    host, so SQS_ENDPOINT_URL's host and port join the keys there."""
    if broker.kind(settings.broker_url) != "sqs" or not settings.sqs_endpoint_url:
        return settings.broker_url
    keys = urlsplit(settings.broker_url).netloc.rpartition("@")[0]
    return f"sqs://{keys + '@' if keys else ''}{urlsplit(settings.sqs_endpoint_url).netloc}"


def transport_options(settings: Settings) -> dict[str, Any]:
    """What each broker needs beyond its URL.

    Redis hands out again a message not acknowledged within the visibility timeout, so it
    outlasts any healthy run. RabbitMQ acknowledges for real (no timeout to outlast) and
    confirms each message it stored; an installation's queues are kept apart by its vhost.
    SQS has a visibility timeout like Redis, set on each queue when a worker first makes
    it: a lease's length, which each live worker renews for what it holds
    (``tasks.sqs_transport``), so a dead worker's messages come back as soon as its leases
    lapse. Its queues are named with the installation's SQS_QUEUE_PREFIX.
    """
    kind = broker.kind(settings.broker_url)
    if kind == "redis":
        prefix = redis_keys.queue_key("")
        return {"visibility_timeout": settings.visibility_timeout, "global_keyprefix": prefix}
    if kind == "rabbitmq":
        return {"confirm_publish": True}
    options = {
        "region": settings.sqs_region,
        "queue_name_prefix": settings.sqs_queue_prefix,
        "visibility_timeout": sqs_transport.hold_seconds(settings.lease_seconds),
        "wait_time_seconds": SQS_WAIT_S,
        "polling_interval": SQS_POLL_S,
    }
    if settings.sqs_endpoint_url:
        options["is_secure"] = settings.sqs_endpoint_url.startswith("https://")
    return options


def _queue(name: str) -> Queue:
    return Queue(name, Exchange(name, type="direct"), routing_key=name)
