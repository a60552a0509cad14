"""The door's hinges and the headers every response carries (who a request is, is
``web.auth``'s).

Only the host names an operator configured are served (``TRANSCODER_ALLOWED_HOSTS``), so
a page on another name that resolves here (DNS rebinding) gets nothing; and a request
that names another site as its ``Origin`` (a post, or a WebSocket a foreign page opens)
is refused, whatever it carries.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, Response, request

from transcoder.errors import BadHost, Forbidden

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: A Host header: a name or an address (IPv6 in brackets), and maybe a port; nothing else.
HOST = re.compile(r"\A(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(:[0-9]{1,5})?\Z")
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


def register(app: Flask, host_names: tuple[str, ...]) -> None:
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

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint != "static" and request.blueprint != "media":
            # A user's pages and data are kept by no cache, the browser's included (OWASP
            # ASVS V8); static and media files say how they may be kept, event streams too.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def host_allowed(host: str, names: tuple[str, ...]) -> bool:
    """Whether ``host`` (a Host header: a name or address, maybe a port) is one of ``names``
    (exact, ``.example.com`` for it and its subdomains, or ``*``)."""
    if not HOST.match(host):
        return False
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
