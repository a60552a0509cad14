"""The clients one process needs, built once from settings.

Made lazily in each process (after a worker forks), never at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from .jobs import VideoStore
from .settings import Settings
from .storage import LocalStorage, Storage


@dataclass
class Services:
    settings: Settings
    redis: redis.Redis
    storage: Storage
    videos: VideoStore


def build_services(settings: Settings) -> Services:
    client = redis.Redis.from_url(settings.redis_url, health_check_interval=30)
    return Services(
        settings=settings,
        redis=client,
        storage=LocalStorage(settings.storage_dir),
        videos=VideoStore(client, settings.record_ttl),
    )
