"""The headers every answer carries: what the pages may load, that they are not framed,
and that a user's pages and data are kept by no cache."""

from __future__ import annotations

from flask import Flask, Response, request

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
#: Blueprints whose answers say themselves how they may be kept (a video's files).
CACHE_THEIR_OWN = {"files"}


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint != "static" and request.blueprint not in CACHE_THEIR_OWN:
            # A user's pages and data are kept by no cache, the browser's included (OWASP
            # ASVS V8); static files and a video's files say how they may be kept, event streams too.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
