"""How long a part waits before it runs again, and how many storage outages it waits out."""

from __future__ import annotations

#: Times a part waits out object storage being out of reach (pauses double up to a minute,
#: so about a quarter of an hour in all) before it fails.
OUTAGE_RETRIES = 20
#: The longest pause between two attempts of a part, in seconds.
MAX_BACKOFF_S = 60.0


def backoff_seconds(exponent: int) -> float:
    """The pause before the next try: 2, 4, 8... seconds after the 1st, 2nd, 3rd... failure,
    at most a minute, so a passing trouble has time to pass without a part waiting for hours."""
    return min(2.0**exponent, MAX_BACKOFF_S)
