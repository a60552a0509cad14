"""Sign-in attempts limit the rate of guesses, per address and per account, counted when
they START (so attempts in flight count, not only failures), and 15 quiet minutes forget them.

- **Per address**, attempts are spaced as if they had been sent one after another: the
  n-th attempt may begin ``delay_after(n - 1)`` after the one before it began (0.5 s, 1 s,
  2 s... at most ``MAX_DELAY_S``). An attempt whose turn is less than ``MAX_DELAY_S`` away
  waits for it; one whose turn is further away is refused at once (HTTP 429 with
  ``Retry-After``), takes no turn and is not counted. So 40 guesses sent at once from one
  address get as far as 40 sent in a row would in the same time: five are answered in the
  first 8 s, the rest are told when to come back.
- **Per account**, each attempt waits ``delay_after(attempts begun on it before)``, at most
  ``MAX_DELAY_S``, and is never refused: guesses spread over many addresses are slowed, and a
  stranger who guesses on purpose delays the owner's next sign-in by ``MAX_DELAY_S`` at most,
  from an address of their own. A wait, never a lock-out: nobody can keep the admin out.

A successful sign-in forgets both records. Without Redis, every attempt waits a little.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import redis

from transcoder.records import redis_keys

FIRST_DELAY_S = 0.5
MAX_DELAY_S = 8.0
FORGET_S = 15 * 60
#: delay_after(n) for n up to here is passed to the script; beyond it, MAX_DELAY_S.
_STEPS = 8


def delay_after(attempts: int) -> float:
    """Seconds between an attempt and the next, after this many recent attempts."""
    if attempts <= 0:
        return 0.0
    return min(FIRST_DELAY_S * 2 ** (attempts - 1), MAX_DELAY_S)


def sequential_start(n: int) -> float:
    """When the n-th of a row of attempts (1-based) may begin, counted from the first:
    what the address's schedule gives parallel attempts too."""
    return sum(delay_after(k) for k in range(1, n))


@dataclass(frozen=True)
class Turn:
    """An attempt's place: wait ``wait_s`` then try; or, when refused, come back in ``retry_after_s``."""

    wait_s: float
    refused: bool = False
    retry_after_s: int = 0


# KEYS: the address's count, the address's next turn (ms), the account's count.
# ARGV: MAX_DELAY_S in ms, FORGET_S, then delay_after(0.._STEPS) in ms.
# Redis's own clock, so every web process shares one schedule.
_BEGIN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max_ms, forget = tonumber(ARGV[1]), tonumber(ARGV[2])
local function delay(n)
  if n + 3 > #ARGV then return max_ms end
  return tonumber(ARGV[n + 3])
end
local turn = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0'))
if turn - now > max_ms then
  return {-1, turn - now - max_ms}
end
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], forget)
redis.call('SET', KEYS[2], turn + delay(n), 'EX', forget)
local m = redis.call('INCR', KEYS[3]) - 1
redis.call('EXPIRE', KEYS[3], forget)
return {math.max(turn - now, delay(m)), 0}
"""


class Throttle:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._begin = client.register_script(_BEGIN)

    def _keys(self, name: str, address: str) -> tuple[str, str, str]:
        """The address's count and next turn, and the account's count (by its name's hash)."""
        account = hashlib.sha256(name.casefold().encode()).hexdigest()[:32]
        by_address = redis_keys.sign_in_failures_key("address", address)
        # The address's next turn (ms, Redis's clock) sits beside its count, named apart from it.
        turn = by_address.replace(":sign-in-failures:", ":sign-in-turn:")
        return by_address, turn, redis_keys.sign_in_failures_key("account", account)

    def begin(self, name: str, address: str) -> Turn:
        """Count this attempt as it starts, and say how long it waits, or that it is refused."""
        steps = [int(delay_after(n) * 1000) for n in range(_STEPS + 1)]
        try:
            wait_ms, over_ms = self._begin(
                keys=self._keys(name, address), args=[int(MAX_DELAY_S * 1000), FORGET_S, *steps]
            )
        except redis.RedisError:
            return Turn(FIRST_DELAY_S * 4)  # without the counts, every attempt waits a little
        if int(wait_ms) < 0:
            return Turn(0.0, refused=True, retry_after_s=max(1, math.ceil(int(over_ms) / 1000)))
        return Turn(int(wait_ms) / 1000)

    def succeeded(self, name: str, address: str) -> None:
        try:
            self.redis.delete(*self._keys(name, address))
        except redis.RedisError:
            pass
