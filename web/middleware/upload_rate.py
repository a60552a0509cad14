"""The least rate at which a request body must arrive.

The idle timeout (``web.server``) closes a connection that sends nothing for a minute,
but a client that sends a few bytes every 20 s would hold its connection, a scratch
file and a greenlet for ever. A read of the body cannot tell: gunicorn's read blocks
until all it was asked for has come. So while a body is read, a watch looks at what
the connection has received (the kernel's count, ``TCP_INFO``) once every
``TRANSCODER_UPLOAD_RATE_WINDOW`` seconds; less than ``TRANSCODER_UPLOAD_MIN_RATE``
bytes per second over a window and it shuts the connection's reading side, which ends
the blocked read, and the request is answered 408. There is no limit on the total
time: a large upload on a slow but steady line (or a resumable one, later) goes on.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from transcoder.errors import UploadTooSlow

#: Where ``tcpi_bytes_received`` (a u64) sits in Linux's ``struct tcp_info`` (since 4.1).
BYTES_RECEIVED_AT = 128
TCP_INFO_SIZE = 136


def tcp_bytes_received(sock: socket.socket) -> int | None:
    """Bytes this TCP connection has received so far; None where the kernel does not say."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_SIZE)
    except (OSError, AttributeError):
        return None
    if len(info) < TCP_INFO_SIZE:
        return None
    return struct.unpack_from("<Q", info, BYTES_RECEIVED_AT)[0]


class BodyWatch:
    """Cuts a connection whose body arrives slower than ``min_rate`` over any window."""

    def __init__(
        self,
        sock: Any,
        min_rate: int,
        window: float,
        received: Callable[[Any], int | None] = tcp_bytes_received,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sock, self.min_rate, self.window = sock, min_rate, window
        self.received, self.clock = received, clock
        self.cut = False
        self.rate = 0.0
        self._last = (clock(), received(sock) or 0)
        self._done = threading.Event()

    def check(self) -> bool:
        """One look: cut the connection if the window since the last look brought too
        little. True once cut."""
        now, count = self.clock(), self.received(self.sock) or 0
        then, before = self._last
        self._last = (now, count)
        self.rate = (count - before) / max(now - then, 1e-9)
        if self.rate < self.min_rate and not self._done.is_set():
            self.cut = True
            try:
                self.sock.shutdown(socket.SHUT_RD)  # the blocked read sees the end of the body
            except OSError:
                pass
        return self.cut

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def stop(self) -> None:
        self._done.set()

    def _run(self) -> None:
        while not self._done.wait(self.window):
            if self.check():
                return

    def refusal(self) -> UploadTooSlow:
        return UploadTooSlow(
            f"The upload arrived at {self.rate:,.0f} bytes/s, slower than this server accepts "
            f"({self.min_rate:,} bytes/s over {self.window:g} s); try again on a faster connection."
        )


class WatchedInput:
    """The request body; a read cut short by the watch is refused as too slow."""

    def __init__(self, stream: Any, watch: BodyWatch) -> None:
        self.stream, self.watch = stream, watch

    def _checked(self, read: Callable[[int], bytes], size: int, line: bool = False) -> bytes:
        try:
            data = read(size)
        except Exception:  # the server's own complaint of a body cut short
            if self.watch.cut:
                raise self.watch.refusal() from None
            raise
        short = size < 0 or len(data) < size
        if self.watch.cut and short and not (line and data.endswith(b"\n")):
            raise self.watch.refusal()
        return data

    def read(self, size: int = -1) -> bytes:
        return self._checked(self.stream.read, size)

    def readline(self, size: int = -1) -> bytes:
        return self._checked(self.stream.readline, size, line=True)

    def __iter__(self) -> WatchedInput:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line


class UploadRate:
    """WSGI middleware: every request body on a TCP connection is watched while read."""

    def __init__(self, app: Callable[..., Iterable[bytes]], min_rate: int, window: float) -> None:
        self.app, self.min_rate, self.window = app, min_rate, window

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        has_body = environ.get("CONTENT_LENGTH") not in (None, "", "0") or "chunked" in environ.get(
            "HTTP_TRANSFER_ENCODING", ""
        )
        if not (self.min_rate and has_body and sock is not None and tcp_bytes_received(sock) is not None):
            return self.app(environ, start_response)
        watch = BodyWatch(sock, self.min_rate, self.window)
        environ["wsgi.input"] = WatchedInput(environ["wsgi.input"], watch)
        watch.start()
        try:
            return self.app(environ, start_response)  # the body is read by now
        finally:
            watch.stop()
