"""The installation prefix every Redis name carries."""

import pytest

from tasks.config import celery_config
from tests.support.processes import TEST_PREFIX, derived_prefix
from transcoder.records import redis_keys
from transcoder.settings import Settings


@pytest.mark.parametrize(
    "url,prefix",
    [
        ("redis://127.0.0.1:6379/0", "transcoder:0"),
        ("redis://127.0.0.1:6379", "transcoder:0"),
        ("redis://:secret@redis:6380/7", "transcoder:7"),
        ("unix:///run/redis.sock?db=3", "transcoder:3"),
        ("http://nope", "transcoder:0"),
    ],
)
def test_the_default_prefix_is_the_database_number(url, prefix):
    assert derived_prefix(url) == prefix


def test_every_name_and_celery_carry_the_prefix():
    try:
        settings = Settings.from_env({"TRANSCODER_REDIS_PREFIX": "site-a"})
        conf = celery_config(settings)
        names = [redis_keys.ACTIVE_VIDEOS, redis_keys.PAGES_VERSION, redis_keys.LOADED, redis_keys.BEHIND,
                 redis_keys.CACHE_COUNTS, redis_keys.METRICS, redis_keys.video_key("v"),
                 redis_keys.floor_key("v"), redis_keys.page_key(1, "q"), redis_keys.events_channel("v"),
                 redis_keys.runs_key("v"), redis_keys.lease_key("v", "p"), redis_keys.cancel_key("v"),
                 redis_keys.queue_key("parts")]  # fmt: skip
        assert all(name.startswith("site-a:") for name in names), names
        for options in ("broker_transport_options", "result_backend_transport_options"):
            assert conf[options]["global_keyprefix"] == "site-a:"
    finally:
        redis_keys.use(TEST_PREFIX)
