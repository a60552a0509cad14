"""The least rate a request body must keep, on a clock and a byte count the test moves."""

import io
import socket

import pytest

from transcoder.errors import UploadTooSlow
from web.middleware.upload_rate import BodyWatch, WatchedInput, tcp_bytes_received


class Connection:
    """What the watch sees of a connection: the bytes received, and a shutdown."""

    def __init__(self) -> None:
        self.received = 0
        self.shut: list[int] = []

    def shutdown(self, how: int) -> None:
        self.shut.append(how)


def watch_of(conn: Connection, clock: list[float]) -> BodyWatch:
    return BodyWatch(conn, min_rate=100, window=10, received=lambda c: c.received, clock=lambda: clock[0])


def test_a_trickle_is_cut_and_the_read_refused():
    conn, clock = Connection(), [0.0]
    watch = watch_of(conn, clock)
    clock[0], conn.received = 10, 50  # 5 bytes/s over the window
    assert watch.check() is True and conn.shut == [socket.SHUT_RD]
    body = WatchedInput(io.BytesIO(b"abc"), watch)
    with pytest.raises(UploadTooSlow) as refused:
        body.read(1000)  # the read the shutdown ended, short
    assert refused.value.code == "upload_too_slow" and "100 bytes/s" in refused.value.message


def test_a_slow_but_steady_upload_goes_on_for_ever():
    conn, clock = Connection(), [0.0]
    watch = watch_of(conn, clock)
    for _ in range(100):  # 1,000 bytes a second, a hundred windows
        clock[0] += 10
        conn.received += 10_000
        assert watch.check() is False
    assert conn.shut == []
    assert WatchedInput(io.BytesIO(b"abc"), watch).read(1000) == b"abc"


def test_a_finished_body_is_never_cut():
    conn, clock = Connection(), [0.0]
    watch = watch_of(conn, clock)
    watch.stop()
    clock[0] = 100
    watch.check()
    assert conn.shut == []


def test_the_kernel_counts_what_a_connection_received():
    server = socket.create_server(("127.0.0.1", 0))
    with server, socket.create_connection(server.getsockname()) as client:
        conn, _ = server.accept()
        with conn:
            client.sendall(b"x" * 5000)
            received = b""
            while len(received) < 5000:
                received += conn.recv(65536)
            assert tcp_bytes_received(conn) == 5000


def test_the_servers_own_complaint_of_a_short_body_becomes_ours():
    class Cut:
        def read(self, size):
            raise OSError("no more data")

    conn, clock = Connection(), [0.0]
    watch = watch_of(conn, clock)
    clock[0] = 10
    watch.check()
    with pytest.raises(UploadTooSlow):
        WatchedInput(Cut(), watch).read(10)
    with pytest.raises(OSError):
        WatchedInput(Cut(), watch_of(Connection(), [0.0])).read(10)
