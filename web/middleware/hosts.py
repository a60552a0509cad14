"""Only the host names an operator configured are served (``TRANSCODER_ALLOWED_HOSTS``),
so a page on another name that resolves here (DNS rebinding) gets nothing."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, request

from transcoder.errors import BadHost

#: A Host header: a name or an address (IPv6 in brackets), and maybe a port; nothing else.
HOST = re.compile(r"\A(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(:[0-9]{1,5})?\Z")
#: What probes and Prometheus call, with the pod's address as the host: answered for any.
ANY_HOST = {"ops.healthz", "ops.readyz", "ops.scrape"}


def init_app(app: Flask, host_names: tuple[str, ...]) -> None:
    @app.before_request
    def _host() -> None:
        if request.endpoint in ANY_HOST:
            return
        if not host_allowed(request.host, host_names):
            raise BadHost(
                f"This server does not answer to the name {request.host[:100]!r}; "
                "an operator adds it to TRANSCODER_ALLOWED_HOSTS."
            )


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
