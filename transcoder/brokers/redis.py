"""Redis as the broker (the default: the Redis of ``TRANSCODER_REDIS_URL``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis

from transcoder.brokers.base import Broker
from transcoder.errors import Unavailable
from transcoder.records import redis_keys
from transcoder.settings import REDIS_SCHEMES


class RedisBroker(Broker):
    schemes = REDIS_SCHEMES
    apart = False

    def waiting(self, client: redis.Redis, names: Iterable[str]) -> dict[str, int]:
        """The length of each queue's list."""
        return {name: client.llen(redis_keys.queue_key(name)) for name in names}

    def check(self, client: redis.Redis) -> None:
        try:
            client.ping()
        except redis.RedisError as exc:
            raise Unavailable(f"The broker does not answer: {exc}") from exc

    def transport_options(self) -> dict[str, Any]:
        """Redis hands out again a message not acknowledged within the visibility timeout, so
        it outlasts any healthy run; Celery's queues and bookkeeping go under the
        installation's prefix."""
        prefix = redis_keys.queue_key("")
        return {"visibility_timeout": self.settings.visibility_timeout, "global_keyprefix": prefix}
