"""Whether the Redis in use keeps anything on disk, told to operators in one plain line.

Redis holds the queue and the live state of running videos (the catalog keeps every
video's record in the database). A Redis with neither RDB snapshots nor an append-only
file (as many packaged and container Redis servers are configured) loses the queue and
the progress of running encodes when it restarts; unfinished videos are then queued
again from the catalog (``transcoder.work.recovery``), which costs their running parts.
That is a choice an operator should make knowingly, so `make run` and ``/readyz`` say so.

    python -m transcoder.ops.durability     # prints the warning, if there is one
"""

from __future__ import annotations

import sys

import redis

from transcoder.errors import ConfigError
from transcoder.settings import Settings

WARNING = (
    "Warning: this Redis keeps nothing on disk (no RDB snapshots, no append-only file): "
    "if it restarts, the queue and every running encode's progress are lost, and the sweepers "
    "re-queue unfinished videos from the catalog. "
    "Turn on appendonly (infra/redis.conf does), or point TRANSCODER_REDIS_URL at one that persists."
)


def keeps_nothing(client: redis.Redis) -> bool | None:
    """True when Redis neither snapshots nor logs to disk; None when it will not say
    (CONFIG is often disabled on managed services, which persist on their own terms)."""
    try:
        save = client.config_get("save").get("save", "")
        appendonly = client.config_get("appendonly").get("appendonly", "no")
    except redis.ResponseError:
        return None
    return not str(save).strip() and str(appendonly).lower() != "yes"


def warning(client: redis.Redis) -> str | None:
    return WARNING if keeps_nothing(client) else None


def main() -> int:
    try:
        settings = Settings.from_env()
    except ConfigError:
        return 0  # the web app and the worker report a bad setting, in their own words
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5)
    try:
        line = warning(client)
    except redis.RedisError:
        return 0  # unreachable: the caller has already said so, or will
    if line:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
