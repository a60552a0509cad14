"""A TCP relay that tests can cut and restore, to take a service out of reach for a while."""

from __future__ import annotations

import socket
import threading


class Relay:
    def __init__(self, upstream: tuple[str, int], bind: str = "0.0.0.0") -> None:
        self.upstream, self.bind = upstream, bind
        self.port = 0
        self.connections: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.lock = threading.Lock()
        self.up()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.bind, self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Refuse new connections and cut the open ones."""
        with self.lock:
            if self.listener is not None:
                # A close alone leaves a listener that a thread is blocked accepting on still
                # taking connections (Linux); shutting it down wakes that accept.
                try:
                    self.listener.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self.listener.close()
                self.listener = None
            for conn in self.connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
            self.connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, server]
            for a, b, up in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._forward, args=(a, b, up), daemon=True).start()

    def _forward(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        """Carry one direction of a connection (``up``: the client's bytes) until either
        side closes. Relays that pace or watch the bytes change this loop."""
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            close_both(src, dst)


def close_both(src: socket.socket, dst: socket.socket) -> None:
    """End both sides of a relayed connection, whichever closed first."""
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
