"""The gunicorn worker the web app runs in: gevent, with an idle timeout on every connection.

Event streams and WebSockets stay open for as long as someone watches, so the web app
runs on gevent: an open connection costs a greenlet, not a thread. gevent's sockets
wait for ever by default, which would let a client that sends its headers a byte at a
time, or stops reading what it asked for, hold a connection without end; so every
connection gets ``TRANSCODER_IDLE_TIMEOUT``: that long without a byte in either
direction closes it. Live streams send keep-alives and pings well within it.

This module is gunicorn's configuration, for `make run`, the tests and every file in
infra/ alike:  ``gunicorn -c python:web.server --bind HOST:PORT 'web:create_app()'``.
It imports nothing of the app, which is loaded only once gevent has patched the process.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

from gunicorn.http.body import ChunkedReader, LengthReader
from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker

from transcoder.settings import Settings


class Worker(GeventWorker):
    def init_process(self) -> None:
        self.idle_timeout = Settings.from_env().idle_timeout
        super().init_process()

    def handle(self, listener: socket.socket, client: socket.socket, addr: object) -> None:
        client.settimeout(self.idle_timeout)
        # Events are small writes in quick succession: without this, each would wait for
        # the client's delayed acknowledgement of the one before (Nagle), up to 40 ms.
        if client.family in (socket.AF_INET, socket.AF_INET6):
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        AsyncWorker.handle(self, listener, client, addr)

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = close_after_refusal(self.wsgi)

    def handle_request(self, listener_name: Any, req: Any, sock: socket.socket, addr: object) -> None:
        req.body.request = req  # how ``close_after_refusal`` finds the request it answers
        try:
            super().handle_request(listener_name, req, sock, addr)
        except StopIteration:  # gunicorn closes the connection
            if getattr(req, "body_refused", False):
                linger(sock)
            raise


#: After refusing a body, how long and how much of it is read and dropped before the
#: connection closes, so the client has its answer before the reset a close with unread
#: bytes brings. A client that stops sending when it sees the answer is done in a moment.
LINGER_S = 1.0
LINGER_BYTES = 1024 * 1024


def linger(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_WR)  # the answer is complete: the client sees the end
        deadline, dropped = time.monotonic() + LINGER_S, 0
        while dropped < LINGER_BYTES and (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            chunk = sock.recv(65536)
            if not chunk:
                return
            dropped += len(chunk)
    except OSError:
        pass


def close_after_refusal(app: Callable) -> Callable:
    """A request refused with a body (401, 403, 413...) is answered and its connection
    closed: gunicorn would otherwise read and drop the rest of the body, however large
    (200 MiB announced to /signin took 25 s), before reading the next request.

    It is decided as the answer starts, so the answer says ``Connection: close``: a
    client told nothing would send its next request on the connection being closed,
    and lose it (``RemoteDisconnected``)."""

    def refusing(environ: dict, start_response: Callable) -> Any:
        # Taken now: the app's own layers put wrappers of theirs in its place.
        req = getattr(environ.get("wsgi.input"), "request", None)

        def start(status: str, headers: list, exc_info: Any = None) -> Any:
            if status[:1] in "45" and req is not None and body_left(req):
                req.force_close()
                req.body_refused = True
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return refusing


def body_left(req: Any) -> bool:
    """Whether some of the request's body is still unread (a chunked one may be)."""
    reader = getattr(getattr(req, "body", None), "reader", None)
    return isinstance(reader, ChunkedReader) or (isinstance(reader, LengthReader) and reader.length > 0)


# gunicorn reads these names as its settings.
worker_class = "web.server.Worker"
workers = 1
#: Open connections one process takes; past this they wait in the listen backlog.
worker_connections = 10000
backlog = 2048
#: Seconds a finished request's connection may wait for the next request.
keepalive = 5
#: On restart, streams get this long to close; their clients reconnect and resume.
graceful_timeout = 10
accesslog = "-"
#: gunicorn itself trusts no one's X-Forwarded-* headers (by default it trusts them from
#: 127.0.0.1, so anything on this machine could make a plain-HTTP request look like
#: HTTPS). Forwarded headers are read by the app alone, with TRANSCODER_TRUSTED_PROXIES:
#: 0, none; n, werkzeug's ProxyFix takes the last n hops of each (``web.middleware``). A
#: count cannot become gunicorn's list of addresses, and gunicorn would read the scheme
#: from the whole header whatever the number of hops, and from X-Forwarded-Ssl, which a
#: proxy may pass on from the client.
forwarded_allow_ips = ""
