"""Where a browser may be sent after signing in: only to a path of this server.

A ``next`` value is judged as a browser will read it from the ``Location`` header, not as
it was sent: browsers (the WHATWG URL standard) drop ASCII tab, line feed and carriage
return from anywhere in a URL, strip control characters and spaces from its ends, and
read ``\\`` as ``/``. So ``/\\t/evil.example`` and ``/\\\\evil.example`` are
``//evil.example`` to them: another site. We apply the same clean-up first, judge what is
left, and send exactly what was judged (percent-encoded where a header could not carry
it); anything that is not a path of this server becomes ``/``. Django's
``url_has_allowed_host_and_scheme`` judges the same way.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

from flask import Request

HOME = "/"
#: Longer than any URL of ours; a longer ``next`` is someone else's.
MAX_TARGET = 2048
#: What a browser removes from anywhere in a URL (WHATWG URL: "ASCII tab or newline").
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
#: What it strips from both ends ("C0 control or space").
_C0_OR_SPACE = "".join(map(chr, range(0x21)))
#: Characters sent as they are; everything else (controls, spaces, non-ASCII) is escaped.
_SAFE = "/?#[]@!$&'()*+,;=:-._~%"


def browser_reads(target: str) -> str:
    """``target`` as a browser parses it from a ``Location`` header."""
    return _TAB_OR_NEWLINE.sub("", target.strip(_C0_OR_SPACE)).replace("\\", "/")


def local_target(target: str | None) -> str:
    """``target`` if a browser would read it as a path of this server, else ``/``."""
    if not target or len(target) > MAX_TARGET:
        return HOME
    seen = browser_reads(target).rstrip("?")
    # Judged twice: as sent, and once percent-decoded (a server or proxy on the way that
    # decodes ``%2F`` or ``%5C`` must not find another site there either).
    if not (_is_path(seen) and _is_path(browser_reads(unquote(seen)))):
        return HOME
    return quote(seen, safe=_SAFE, errors="replace") or HOME


def _is_path(url: str) -> bool:
    """A path of this server: one leading slash (``//`` names a host), no scheme or host."""
    if not url.startswith("/") or url.startswith("//"):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return not parts.scheme and not parts.netloc


def safe_next(req: Request) -> str:
    """Where to go after signing in: the request's ``next`` if it is a path of this server,
    else ``/``. Never raises: decided before the session is made."""
    next_value = req.values.get("next")
    return local_target(next_value if isinstance(next_value, str) else None)
