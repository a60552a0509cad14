"""Many live-stream clients in one process, for `make bench` (see ``tests.bench.streams``).

    python -m tests.bench.streams_client URL COUNT SECONDS OUT VIDEO_ID...

Opens COUNT streams (even ones SSE, odd ones WebSocket), each following one of the
videos in turn, reads until the file OUT.stop appears (or for SECONDS at most), and
writes to OUT which snapshot (``video:seq``) each stream read and when (wall clock).
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import websocket  # noqa: E402

STOP = {"now": False}

SEQ = re.compile(rb'"seq": (\d+)')


def counted(job):
    """A stream the server closed (it dropped a reader that fell behind) is counted, not raised."""

    def run(*args) -> None:
        try:
            job(*args)
        except (OSError, websocket.WebSocketException):
            args[-1]["closed"] += 1

    return run


@counted
def sse(host: str, port: int, video_id: str, until: float, seen: list, state: dict) -> None:
    conn = socket.create_connection((host, port), timeout=30)
    conn.sendall(f"GET /api/events?video={video_id} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    state["connected"] += 1
    buffer = b""
    conn.settimeout(1.0)
    while not STOP["now"] and time.time() < until:
        try:
            data = conn.recv(65536)
        except TimeoutError:
            continue
        if not data:
            break
        buffer += data
        *lines, buffer = buffer.split(b"\n")
        at = time.time()
        for line in lines:
            if line.startswith(b"id: "):
                seen.append((line[4:].decode(), at))
    conn.close()


@counted
def ws(url: str, video_id: str, until: float, seen: list, state: dict) -> None:
    conn = websocket.create_connection(url, timeout=30)
    conn.send(json.dumps({"subscribe": [video_id]}))
    state["connected"] += 1
    conn.settimeout(1.0)
    while not STOP["now"] and time.time() < until:
        try:
            message = conn.recv()
        except websocket.WebSocketTimeoutException:
            continue
        at = time.time()
        match = SEQ.search(message.encode() if isinstance(message, str) else message)
        if match:
            seen.append((f"{video_id}:{int(match.group(1))}", at))
    conn.close()


def main() -> None:
    url, count, seconds, out, *ids = sys.argv[1:]
    host, port = url.removeprefix("http://").split(":")
    until = time.time() + float(seconds)
    seen: list = []
    state = {"connected": 0, "closed": 0}
    stop_file = Path(out + ".stop")

    def watch_stop() -> None:
        while not stop_file.exists():
            gevent.sleep(0.2)
        STOP["now"] = True

    jobs = [gevent.spawn(watch_stop)]
    for n in range(int(count)):
        video_id = ids[n % len(ids)]
        if n % 2:
            jobs.append(gevent.spawn(ws, f"ws://{host}:{port}/api/ws", video_id, until, seen, state))
        else:
            jobs.append(gevent.spawn(sse, host, int(port), video_id, until, seen, state))
        if n % 100 == 99:
            gevent.sleep(0.05)  # a steady stream of new connections, not one burst
    gevent.joinall(jobs, timeout=float(seconds) + 5)
    with open(out, "w") as fh:
        json.dump({**state, "seen": seen}, fh)


if __name__ == "__main__":
    main()
