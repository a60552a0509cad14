"""``python -m transcoder.brokers``: what `make run` asks before it starts anything.

A broker apart from Redis must answer now, or this prints one line naming
TRANSCODER_BROKER_URL and exits 1. Then it prints the pip extra the broker needs that is not
installed (SQS: ``sqs``, for pycurl), or nothing, for `make run` to install.
"""

from __future__ import annotations

import sys

import redis

from transcoder import brokers
from transcoder.errors import ConfigError
from transcoder.settings import Settings


def main() -> int:
    try:
        settings = Settings.from_env()
        broker = brokers.of(settings)
        broker.require(redis.Redis.from_url(settings.redis_url))
    except ConfigError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(broker.missing_extra() or "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
