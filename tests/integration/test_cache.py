"""Redis as a cache over the catalog, on a redis-server of its own: copies, the floor that keeps
a slow reader from putting an old copy back, library pages under a version, and the counts."""

from __future__ import annotations

import orjson
import pytest
import redis

from tests.support.processes import running_redis
from transcoder.records import cache as cache_module
from transcoder.records import redis_keys
from transcoder.records.cache import Cache, digest


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_redis(tmp_path_factory.mktemp("cache-redis"), persistent=False) as server:
        yield server


@pytest.fixture
def cache(server):
    client = redis.Redis.from_url(server.url)
    client.flushdb()
    return Cache(client, ttl=60)


def video(seq: int) -> dict:
    return {"id": "a" * 32, "seq": seq, "state": "ready"}


def test_a_copy_is_kept_once_and_read_back_as_stored(cache):
    assert cache.fill(video(3), 60) == 1
    assert cache.fill(video(3), 60) == 0  # one was there already
    [raw] = cache.get_many(["a" * 32])
    assert orjson.loads(raw) == video(3)
    assert 0 < cache.redis.ttl(redis_keys.video_key("a" * 32)) <= 60


def test_a_copy_older_than_the_last_write_is_refused(cache):
    # A writer recorded seq 5 and raised the floor; a reader that fetched seq 4 before it is late.
    cache.redis.set(redis_keys.floor_key("a" * 32), 5)
    assert cache.fill(video(4), 60) == -1
    assert cache.get_many(["a" * 32]) == [None]
    assert cache.fill(video(5), 60) == 1


def test_reads_are_counted_as_hits_and_misses(cache):
    cache.fill(video(1), 60)
    cache.get_many(["a" * 32, "b" * 32])
    assert cache.counts() == {"hit": 1, "miss": 1}


def test_a_page_is_kept_under_the_version_of_the_listing_and_gone_once_it_changes(cache):
    query = {"state": None, "q": "bikes", "limit": 50}
    version, page = cache.page(query)
    assert (version, page) == (0, None)
    cache.keep_page(version, query, {"ids": ["a" * 32], "next_cursor": None})
    assert cache.page(query) == (0, {"ids": ["a" * 32], "next_cursor": None})
    cache.redis.incr(redis_keys.PAGES_VERSION)  # a change to which videos a page lists
    assert cache.page(query) == (1, None)
    assert cache.counts() == {"page_hit": 1, "page_miss": 2}


def test_searching_cannot_fill_redis_with_pages(cache):
    for n in range(cache_module.MAX_PAGES + 50):
        cache.keep_page(0, {"q": f"search {n}"}, {"ids": [], "next_cursor": None})
    pages = list(cache.redis.scan_iter(redis_keys.page_key(0, "*")))
    assert len(pages) == cache_module.MAX_PAGES
    assert cache.page({"q": "search 0"}) == (0, None)  # the oldest went first
    newest = {"q": f"search {cache_module.MAX_PAGES + 49}"}
    assert cache.page(newest) == (0, {"ids": [], "next_cursor": None})


def test_no_pages_are_kept_when_copies_are_off(server):
    off = Cache(redis.Redis.from_url(server.url), ttl=0)
    off.redis.flushdb()
    off.keep_page(0, {"q": ""}, {"ids": []})
    assert off.page({"q": ""}) == (0, None)


def test_a_query_has_one_digest_whatever_the_order_of_its_fields():
    assert digest({"a": 1, "b": 2}) == digest({"b": 2, "a": 1}) != digest({"a": 1, "b": 3})
