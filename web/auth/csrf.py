"""The defence against requests a foreign page makes a browser send (CSRF), in two checks.

- **Origin.** A browser names the page's origin on every cross-site post and on every
  WebSocket it opens; a request that names another site is refused (403), whatever it
  carries. This runs before anyone is identified (``init_app``), so a foreign page learns
  nothing, not even whether a credential was good.
- **Token.** A signed-in browser's unsafe requests must send back the token its session
  holds (``X-CSRF-Token``, or the field of a page's small form); an API key needs none:
  a browser never sends one on its own. ``web.auth.identity`` asks for it once it knows
  the request came with a session.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import Flask, request, session

from transcoder.errors import Forbidden

from ..middleware.hosts import ANY_HOST, host_allowed

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
#: The only body the CSRF field is read from: the pages' own forms, small (``web.middleware.bodies``).
FORM_TYPE = "application/x-www-form-urlencoded"
CSRF_REFUSED = "The page's security token is missing or stale: reload the page."


def init_app(app: Flask, host_names: tuple[str, ...]) -> None:
    """The origin's check, as a hook before identity's (``web.auth.init_app`` keeps the order)."""
    app.jinja_env.globals.update(csrf_token=csrf_token)

    @app.before_request
    def _origin() -> None:
        if request.endpoint in ANY_HOST:
            return
        if not same_origin(host_names, request.method not in SAFE_METHODS):
            raise Forbidden("Requests from other sites are not accepted.")


def same_origin(names: tuple[str, ...], unsafe: bool) -> bool:
    """A browser names the page's origin on every cross-site post and on every WebSocket
    it opens (Referer stands in on older ones, for posts); tools send none. The origin
    must be this very server, scheme, name and port, under a name the operator allowed:
    ``https://`` is another origin than a plain-HTTP server (the scheme is the one the
    client used, from X-Forwarded-Proto behind TRANSCODER_TRUSTED_PROXIES)."""
    origin = request.headers.get("Origin") or (request.headers.get("Referer") if unsafe else None)
    if not origin:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    netloc = parts.netloc
    return parts.scheme.lower() == request.scheme and netloc == request.host and host_allowed(netloc, names)


def csrf_token() -> str:
    """The token a page puts in its requests and forms; made once per session."""
    if "csrf" not in session:
        session["csrf"] = new_token()
    return session["csrf"]


def new_token() -> str:
    """A fresh token, for a session just opened (nothing of the one before survives)."""
    return secrets.token_urlsafe(24)


def check_csrf() -> None:
    """The token comes in the ``X-CSRF-Token`` header (the pages' scripts, uploads
    included), or in the field of a page's small url-encoded form; never out of a
    multipart body, which would be parsed (and a file in it spooled to disk) only to find
    it. Anything but the session's own token, an odd one included, is 403."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.mimetype == FORM_TYPE:
        sent = request.form.get(CSRF_FIELD)
    expected = session.get("csrf")
    if not (isinstance(sent, str) and isinstance(expected, str) and expected and sent.isascii()):
        raise Forbidden(CSRF_REFUSED)
    if not hmac.compare_digest(sent, expected):
        raise Forbidden(CSRF_REFUSED)
