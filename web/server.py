"""The gunicorn worker the web app runs in: gevent, with an idle timeout on every connection.

Event streams and WebSockets stay open for as long as someone watches, so the web app
runs on gevent: an open connection costs a greenlet, not a thread. gevent's sockets
wait for ever by default, which would let a client that sends its headers a byte at a
time, or stops reading what it asked for, hold a connection without end; so every
connection gets ``TRANSCODER_IDLE_TIMEOUT``: that long without a byte in either
direction closes it. Live streams send keep-alives and pings well within it.

This module is named on gunicorn's command line (``--worker-class web.server.Worker``);
it imports nothing of the app, which is loaded only once gevent has patched the process.
"""

from __future__ import annotations

import socket

from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker

from transcoder.settings import Settings


class Worker(GeventWorker):
    def init_process(self) -> None:
        self.idle_timeout = Settings.from_env().idle_timeout
        super().init_process()

    def handle(self, listener: socket.socket, client: socket.socket, addr: object) -> None:
        client.settimeout(self.idle_timeout)
        AsyncWorker.handle(self, listener, client, addr)
