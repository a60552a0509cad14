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

from kombu import Exchange, Queue

from transcoder import brokers
from transcoder.records import redis_keys
from transcoder.records.redis_keys import FINALIZE_QUEUE, PARTS_QUEUE
from transcoder.settings import Settings

PART_TASK = "tasks.transcode.part"
CLOSE_TASK = "tasks.transcode.close"

#: Seconds a stopping worker lets running encodes go on before handing them back.
SOFT_SHUTDOWN_S = 30.0


def celery_config(settings: Settings) -> dict[str, Any]:
    hard_limit, visibility = settings.hard_time_limit, settings.visibility_timeout
    redis_keys.use(settings.redis_prefix)
    broker = brokers.of(settings)
    # Celery's queues, results and bookkeeping under the installation's prefix too.
    prefix = {"global_keyprefix": redis_keys.queue_key("")}
    return {
        "broker_url": broker.celery_url(),
        "result_backend": settings.redis_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": broker.transport_options(),
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
        "task_queues": tuple(_queue(name) for name in broker.queues()),
        "task_default_queue": FINALIZE_QUEUE,
        "task_create_missing_queues": False,
        "task_routes": {
            PART_TASK: {"queue": PARTS_QUEUE},
            CLOSE_TASK: {"queue": FINALIZE_QUEUE},
        },
        "worker_hijack_root_logger": False,
    }


def _queue(name: str) -> Queue:
    return Queue(name, Exchange(name, type="direct"), routing_key=name)
