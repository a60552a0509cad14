"""The clients one process needs, built once from settings.

Made lazily in each process (after a worker forks), never at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from transcoder.accounts.keys import Keys
from transcoder.accounts.quotas import Quotas
from transcoder.accounts.throttle import Throttle
from transcoder.accounts.users import Users
from transcoder.records import redis_keys
from transcoder.records.catalog import Catalog
from transcoder.records.database import make_engine
from transcoder.records.videos import VideoStore
from transcoder.settings import Settings
from transcoder.storage.base import Storage
from transcoder.storage.local import LocalStorage


@dataclass
class Services:
    settings: Settings
    redis: redis.Redis
    storage: Storage
    catalog: Catalog
    videos: VideoStore
    users: Users
    keys: Keys
    quotas: Quotas
    throttle: Throttle


#: Redis connections one process keeps at most, and how long a command waits for one.
POOL_CONNECTIONS = 100
POOL_WAIT_S = 10.0


def build_services(settings: Settings, patient: bool = False) -> Services:
    """Clients for one process. A patient one (a worker) retries Redis for about half a
    minute, long enough to ride out a restart mid-encode; a web request gives up in a
    second or two and answers 503."""
    redis_keys.use(settings.redis_prefix)
    retry = Retry(ExponentialBackoff(cap=4.0, base=0.1), 12 if patient else 2)
    # A blocking pool: past its connections a command waits its turn (up to POOL_WAIT_S)
    # rather than fail. redis-py's default pool refuses the 101st at once ("Too many
    # connections"), which answered 503 to half of 250 event streams opened together.
    pool = redis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=POOL_CONNECTIONS,
        timeout=POOL_WAIT_S,
        health_check_interval=30,
        socket_connect_timeout=5,
        retry=retry,
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )
    client = redis.Redis.from_pool(pool)
    catalog = Catalog(make_engine(settings.database_url))
    users = Users(catalog)
    env_keys = frozenset(key.strip() for key in settings.api_keys.split(",") if key.strip())
    return Services(
        settings=settings,
        redis=client,
        storage=open_storage(settings),
        catalog=catalog,
        videos=VideoStore(client, catalog, settings.cache_ttl),
        users=users,
        keys=Keys(catalog, users, env_keys),
        quotas=Quotas(catalog, settings.storage_quota, settings.daily_quota),
        throttle=Throttle(client),
    )


def open_storage(settings: Settings) -> Storage:
    if settings.storage == "s3":
        from transcoder.storage.s3 import S3Storage, make_client

        s = settings
        client = make_client(s.s3_endpoint_url, s.s3_region, s.s3_access_key_id, s.s3_secret_access_key)
        return S3Storage(client, settings.s3_bucket, settings.s3_prefix, settings.scratch_dir)
    return LocalStorage(settings.storage_dir)
