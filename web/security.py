"""Who may use the API, and the headers every response carries.

Without ``TRANSCODER_API_KEYS`` the API is open, as on a private network. With
keys, API clients send ``Authorization: Bearer <key>``; the pages keep working
because visiting one gives the browser a same-origin session, whose unsafe
requests must also carry the page's CSRF token.

Before any of that, the door's hinges: only the host names an operator configured are
served (``TRANSCODER_ALLOWED_HOSTS``), so a page on another name that resolves here (DNS
rebinding) gets nothing; and a request that names another site as its ``Origin`` (a
post, or a WebSocket a foreign page opens) is refused, whatever it carries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request, session

from transcoder.errors import BadHost, Forbidden, Unauthorized

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_HEADER = "X-CSRF-Token"
#: What probes and Prometheus call, with the pod's address as the host: answered for any.
ANY_HOST = {"ops.healthz", "ops.readyz", "ops.scrape"}

#: What the pages need and nothing else: our own scripts, styles and media; blob: for
#: the media source and worker hls.js creates; no framing, no plugins, no foreign forms.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def parse_keys(text: str) -> frozenset[str]:
    return frozenset(key.strip() for key in text.split(",") if key.strip())


def csrf_token() -> str:
    """The token a page puts in its requests; made once per browser session."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    session["page"] = True
    return session["csrf"]


def register(app: Flask, api_keys: frozenset[str], host_names: tuple[str, ...]) -> None:
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", API_KEYS=api_keys)
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _hinges() -> None:
        if request.endpoint in ANY_HOST:
            return
        if not host_allowed(request.host, host_names):
            raise BadHost(
                f"This server does not answer to the name {request.host[:100]!r}; "
                "an operator adds it to TRANSCODER_ALLOWED_HOSTS."
            )
        if not _same_origin(host_names, request.method not in SAFE_METHODS):
            raise Forbidden("Requests from other sites are not accepted.")

    @app.before_request
    def _guard() -> None:
        if not request.path.startswith("/api/"):
            return
        unsafe = request.method not in SAFE_METHODS
        if _bearer_ok(api_keys):
            return
        if api_keys and not session.get("page"):
            raise Unauthorized("This API needs a key: send 'Authorization: Bearer <key>'.")
        if unsafe and session.get("page"):
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent, session.get("csrf", "")):
                raise Forbidden("The page's security token is missing or stale: reload the page.")

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def key_id() -> str | None:
    """The id of the API key this request was let in with (a hash: the key itself is never
    stored), recorded as the uploader of a video; None without keys, or from a page."""
    api_keys = current_app.config.get("API_KEYS") or frozenset()
    if not api_keys or not _bearer_ok(api_keys):
        return None
    return hash_key(request.headers["Authorization"].partition(" ")[2])


def hash_key(key: str) -> str:
    """An API key's id: a hash, so the key itself is never stored or counted by."""
    return hashlib.sha256(key.strip().encode()).hexdigest()[:16]


def _bearer_ok(api_keys: frozenset[str]) -> bool:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key:
        return False
    return any(hmac.compare_digest(key.strip(), known) for known in api_keys)


def host_allowed(host: str, names: tuple[str, ...]) -> bool:
    """Whether ``host`` (a Host header: a name or address, maybe a port) is one of ``names``
    (exact, ``.example.com`` for it and its subdomains, or ``*``)."""
    try:
        name = (urlsplit("//" + host).hostname or "").rstrip(".")
    except ValueError:
        return False
    if not name:
        return False
    for allowed in names:
        if allowed == "*" or name == allowed:
            return True
        if allowed.startswith(".") and (name == allowed[1:] or name.endswith(allowed)):
            return True
    return False


def _same_origin(names: tuple[str, ...], unsafe: bool) -> bool:
    """A browser names the page's origin on every cross-site post and on every WebSocket
    it opens (Referer stands in on older ones, for posts); tools send none. The origin
    must be this very server under a name the operator allowed."""
    origin = request.headers.get("Origin") or (request.headers.get("Referer") if unsafe else None)
    if not origin:
        return True
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        return False
    return netloc == request.host and host_allowed(netloc, names)
