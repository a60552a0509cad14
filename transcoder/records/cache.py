"""Redis as a cache over the catalog: cache-aside reads that never put a stale copy back.

A read tries Redis, and on a miss reads the database and leaves a copy in Redis for the
next reader. The known race: a reader fetches version n from the database, a writer
records n+1 and replaces the copy, then the slow reader stores n, and every later reader
sees n until it expires. Measured, clearing the cache before or after the write does not
close it. Here every write raises the video's *floor* to its new ``seq``, in the same
Redis transaction that replaces the copy, and a fill below the floor is refused by one
Lua script (the check and the set are atomic). A deleted video's floor is set above every
``seq``, so no reader can bring it back.

Library pages are cached under a version number that every change to a listing bumps
after the database has it: a page a slow reader fills is filed under a number no later
reader asks for. At most ``MAX_PAGES`` are kept: every distinct search string makes a
page, and a client must not be able to fill Redis by searching.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson
import redis

from transcoder.records import redis_keys
from transcoder.records.document import Video
from transcoder.records.replies import as_text

#: The floor of a deleted video: above any seq it could have had.
TOMBSTONE = 2**53
#: The most library pages kept at once; the oldest kept goes first.
MAX_PAGES = 1000

# KEYS: the page, the list of kept pages. ARGV: the page, its TTL, the most kept.
_KEEP = """
redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('rpush', KEYS[2], KEYS[1])
while redis.call('llen', KEYS[2]) > tonumber(ARGV[3]) do
  redis.call('del', redis.call('lpop', KEYS[2]))
end
return 1
"""

# KEYS: the copy, its floor. ARGV: the document, its seq, its TTL (0: none).
_FILL = """
local floor = tonumber(redis.call('get', KEYS[2]) or '0')
if tonumber(ARGV[2]) < floor then return -1 end
if ARGV[3] == '0' then return redis.call('set', KEYS[1], ARGV[1], 'NX') and 1 or 0 end
return redis.call('set', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[3]) and 1 or 0
"""

# KEYS: the counts hash, then the copies. Returns the copies, counting hits and misses.
_GET = """
local values = redis.call('mget', unpack(KEYS, 2))
local hits = 0
for i = 1, #values do if values[i] then hits = hits + 1 end end
if hits > 0 then redis.call('hincrby', KEYS[1], 'hit', hits) end
if #values > hits then redis.call('hincrby', KEYS[1], 'miss', #values - hits) end
return values
"""

# KEYS: the counts hash, the pages' version. ARGV: the key prefix, the query's digest.
_PAGE = """
local version = redis.call('get', KEYS[2]) or '0'
local page = redis.call('get', ARGV[1] .. version .. ':' .. ARGV[2])
redis.call('hincrby', KEYS[1], page and 'page_hit' or 'page_miss', 1)
return {version, page}
"""


class Cache:
    """Copies of video documents and library pages in Redis, behind four calls."""

    def __init__(self, client: redis.Redis, ttl: int) -> None:
        self.redis = client
        self.ttl = ttl
        self._fill = client.register_script(_FILL)
        self._get = client.register_script(_GET)
        self._page = client.register_script(_PAGE)
        self._keep = client.register_script(_KEEP)

    def get_many(self, video_ids: list[str]) -> list[bytes | None]:
        if not video_ids:
            return []
        return self._get(keys=[redis_keys.CACHE_COUNTS, *map(redis_keys.video_key, video_ids)])

    def fill(self, video: Video, ttl: int) -> int:
        """Offer a copy read from the database: 1 stored, 0 one was there, -1 too old.

        ``ttl`` 0 keeps it until a transition replaces it: a live video's transitions
        are applied to this copy.
        """
        return self.fill_many([(video, ttl)])[0]

    def fill_many(self, copies: list[tuple[Video, int]]) -> list[int]:
        """``fill`` for several videos (each with its TTL), in one round trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            for video, ttl in copies:
                key, floor = redis_keys.video_key(video["id"]), redis_keys.floor_key(video["id"])
                self._fill(keys=[key, floor], args=[orjson.dumps(video), video["seq"], ttl], client=pipe)
            return [int(n) for n in pipe.execute()]

    def page(self, query: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        """The pages' version now, and the page cached for ``query`` under it, if any."""
        version, raw = self._page(
            keys=[redis_keys.CACHE_COUNTS, redis_keys.PAGES_VERSION], args=[_page_prefix(), digest(query)]
        )
        return int(version), (json.loads(raw) if raw else None)

    def keep_page(self, version: int, query: dict[str, Any], page: dict[str, Any]) -> None:
        if self.ttl:
            key = redis_keys.page_key(version, digest(query))
            self._keep(keys=[key, redis_keys.KEPT_PAGES], args=[json.dumps(page), self.ttl, MAX_PAGES])

    def counts(self) -> dict[str, int]:
        raw = self.redis.hgetall(redis_keys.CACHE_COUNTS)
        return {as_text(k): int(v) for k, v in raw.items()}


def digest(query: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(query, sort_keys=True).encode()).hexdigest()[:20]


def _page_prefix() -> str:
    return redis_keys.page_key(0, "").rsplit(":", 2)[0] + ":"
