"""What every request meets before any route: the WSGI layers around the app (the least
rate of a body, trusted proxies' headers) and the first hooks (each route's body limit,
the host names served), then the headers every answer carries.

Each module says why; this one puts them in their order. The sign-in gate's layer, the
outermost, is ``web.auth.sign_in_gate``'s (``web.auth.init_app`` adds it after these).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from transcoder.settings import Settings

from . import bodies, headers, hosts
from .upload_rate import UploadRate


def init_app(app: Flask, settings: Settings) -> None:
    app.wsgi_app = UploadRate(app.wsgi_app, settings.upload_min_rate, settings.upload_rate_window)
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    bodies.init_app(app, settings.max_upload_bytes)  # first: no hook after it reads a body without its limit
    hosts.init_app(app, settings.host_names)
    headers.init_app(app)
