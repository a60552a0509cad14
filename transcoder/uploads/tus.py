"""The tus 1.0.0 protocol's headers, parsed and built, with nothing else (no HTTP, no I/O).

Every header a client sends is checked strictly here, so a malformed one is a clear 400
(``InvalidInput`` with code ``bad_tus_header``) and never reaches the code that trusts
it: offsets and lengths are plain non-negative decimal integers (no sign, no spaces, no
``0x``; Python's ``int()`` would take ``" +1_0"``), metadata values strict base64, a
checksum's digest exactly as long as its algorithm's. See ``resumable`` for what the
protocol does with them and ``web.uploads`` for the routes.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import re
from typing import NamedTuple

from transcoder.errors import InvalidInput, UnsupportedVersion

VERSION = "1.0.0"
EXTENSIONS = ("creation", "creation-with-upload", "termination", "expiration", "checksum")
#: sha1 because the spec requires it of a server that offers checksums; sha256 as well.
CHECKSUM_ALGORITHMS = ("sha1", "sha256")
CONTENT_TYPE = "application/offset+octet-stream"
#: 20 digits hold any length a 64-bit number can; more is not a size we could store.
_DECIMAL = re.compile(r"[0-9]{1,19}")
_KEY = re.compile(r"[!-+\--~]+")  # printable ASCII but the space and the comma
#: Metadata we keep at most: a browser sends a handful of short pairs.
MAX_METADATA_PAIRS = 32


class Checksum(NamedTuple):
    algorithm: str
    digest: bytes


def bad(message: str) -> InvalidInput:
    return InvalidInput(message, code="bad_tus_header")


def check_version(value: str | None) -> None:
    """Every tus request but OPTIONS names the version it speaks; we speak one."""
    if value != VERSION:
        raise UnsupportedVersion(
            f"This server speaks tus {VERSION}; send 'Tus-Resumable: {VERSION}' (got {value!r})."
        )


def parse_size(value: str | None, name: str) -> int:
    """``Upload-Offset`` or ``Upload-Length``: a non-negative decimal integer, nothing else."""
    if value is None:
        raise bad(f"The {name} header is required.")
    if not _DECIMAL.fullmatch(value):
        raise bad(f"{name} must be a non-negative whole number of bytes, got {value[:40]!r}.")
    return int(value)


def parse_metadata(value: str | None) -> dict[str, bytes]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (the value may be left
    out); keys unique, printable ASCII without spaces or commas; values strict base64."""
    if value is None or value.strip() == "":
        return {}
    pairs = value.split(",")
    if len(pairs) > MAX_METADATA_PAIRS:
        raise bad(f"Upload-Metadata holds more than {MAX_METADATA_PAIRS} pairs.")
    found: dict[str, bytes] = {}
    for pair in pairs:
        words = pair.strip().split(" ")
        if len(words) > 2 or not _KEY.fullmatch(words[0]):
            raise bad("Upload-Metadata must be comma-separated 'key base64value' pairs.")
        key = words[0]
        if key in found:
            raise bad(f"Upload-Metadata names {key!r} twice.")
        try:
            found[key] = base64.b64decode(words[1], validate=True) if len(words) == 2 else b""
        except (binascii.Error, ValueError):
            raise bad(f"Upload-Metadata's value of {key!r} is not base64.") from None
    return found


def text_of(metadata: dict[str, bytes], key: str) -> str:
    """A metadata value as text (a file name): UTF-8, else 400."""
    try:
        return metadata.get(key, b"").decode("utf-8")
    except UnicodeDecodeError:
        raise bad(f"Upload-Metadata's {key!r} must be UTF-8 text.") from None


def parse_checksum(value: str | None) -> Checksum | None:
    """``Upload-Checksum: <algorithm> <base64 digest>``; None when there is none."""
    if value is None:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise bad(
            f"Upload-Checksum's algorithm must be one of {', '.join(CHECKSUM_ALGORITHMS)}, "
            f"got {algorithm[:20]!r}."
        )
    try:
        digest = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise bad("Upload-Checksum's digest is not base64.") from None
    if len(digest) != hashlib.new(algorithm).digest_size:
        raise bad(f"Upload-Checksum's digest is not a {algorithm} digest (wrong length).")
    return Checksum(algorithm, digest)


def http_date(timestamp: float) -> str:
    """``Upload-Expires``: an RFC 9110 date (``Sun, 06 Nov 1994 08:49:37 GMT``)."""
    return email.utils.formatdate(timestamp, usegmt=True)


def parse_http_date(value: str) -> float:
    """The time an ``Upload-Expires`` names (for clients and tests)."""
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        raise bad(f"Not an HTTP date: {value[:40]!r}.") from None


def discovery_headers(max_size: int) -> dict[str, str]:
    """What ``OPTIONS`` tells a client this server does."""
    return {
        "Tus-Resumable": VERSION,
        "Tus-Version": VERSION,
        "Tus-Extension": ",".join(EXTENSIONS),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
        "Tus-Max-Size": str(max_size),
    }
