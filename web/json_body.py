"""The JSON body of a request, read so that no body can answer 500: every route that takes
JSON reads it here, never with ``request.get_json``.

``get_json`` lets through what breaks the code after it: a body nested a few thousand
levels deep raises ``RecursionError`` inside the parser; ``"\\ud800"`` (a lone surrogate,
valid JSON) becomes a str that cannot be encoded, so the database or a header fails later;
``1e999999`` becomes ``inf``; a number of 5,000 digits raises ``ValueError``. Here each is
refused at once with 400 ``bad_request`` and a sentence that says what to send.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import request

from transcoder.errors import InvalidInput

#: Deeper than any body of ours; deeper is refused before parsing.
MAX_DEPTH = 32
#: Larger than any body of ours (a key's name is 64 characters); larger is refused unread.
MAX_BYTES = 64 * 1024


def json_body(example: str = '{"name": "laptop"}') -> Any:
    """The request's body parsed as JSON; 400 ``bad_request`` for a body that is not JSON
    we can use (``example`` shows what to send)."""
    refused = InvalidInput(f"Send a JSON body (Content-Type: application/json) such as {example}.",
                           code="bad_request")  # fmt: skip
    if not request.is_json or (request.content_length or 0) > MAX_BYTES:
        raise refused
    try:
        text = request.get_data(cache=True).decode("utf-8")
        if _depth(text) > MAX_DEPTH:
            raise ValueError("nested too deep")
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise refused from exc
    if not _encodable(value):
        raise refused
    return value


def _depth(text: str) -> int:
    """How deep brackets nest, strings aside (a quick scan, so the parser never recurses far)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("a number too large")
    return number


def _encodable(value: Any) -> bool:
    """No lone surrogate in any key or string: each can be stored, logged and sent back."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True
