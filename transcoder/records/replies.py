"""Redis replies as text: one place that turns the bytes a client may hand back into ``str``.

A client made with ``decode_responses`` returns text already; ours return bytes, so
every reader of a set, a hash or a list goes through ``as_text`` (as rq's ``as_text``).
"""

from __future__ import annotations


def as_text(value: bytes | str) -> str:
    """``value`` as text (Redis keys and members are UTF-8 here)."""
    return value.decode() if isinstance(value, bytes) else value
