"""Sign-in floods as an attacker sends them, for the tests and `make bench`: raw sockets,
each connected first, then every request released at the same moment (a barrier), and the
answers read (status, ``Retry-After``, the JSON error's code). Also the open streams and
the ``/healthz`` probe that watch a web process while it is flooded."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests


@dataclass
class Answer:
    status: int  # 0: no answer (refused, reset or closed before one)
    retry_after: str | None = None
    code: str = ""
    took_s: float = 0.0


def sign_in_request(url: str, name: str, password: str, forwarded_for: str | None = None) -> bytes:
    body = urlencode({"name": name, "password": password}).encode()
    head = [
        "POST /signin HTTP/1.1",
        f"Host: {urlsplit(url).netloc}",
        "Content-Type: application/x-www-form-urlencoded",
        "Accept: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if forwarded_for:
        head.append(f"X-Forwarded-For: {forwarded_for}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _exchange(sock: socket.socket, request: bytes, began: float) -> Answer:
    try:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except OSError:
        return Answer(0, took_s=time.monotonic() - began)
    finally:
        sock.close()
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/"):
        return Answer(0, took_s=time.monotonic() - began)
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    code = ""
    if headers.get("content-type", "").startswith("application/json"):
        try:
            code = json.loads(body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = "?"
    return Answer(int(lines[0].split()[1]), headers.get("retry-after"), code, time.monotonic() - began)


def release(url: str, requests_: list[bytes], timeout: float = 120.0) -> list[Answer]:
    """Every request on a connection of its own, connected first, sent at the same moment."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    answers: list[Answer] = [Answer(0)] * len(requests_)
    barrier = threading.Barrier(len(requests_) + 1)

    def one(n: int) -> None:
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except OSError:
            barrier.wait()
            return
        barrier.wait()
        answers[n] = _exchange(sock, requests_[n], time.monotonic())

    threads = [threading.Thread(target=one, args=(n,), daemon=True) for n in range(len(requests_))]
    for t in threads:
        t.start()
    barrier.wait()
    for t in threads:
        t.join(timeout + 10)
    return answers


def one_sign_in(url: str, request: bytes, timeout: float = 120.0) -> Answer:
    began = time.monotonic()
    try:
        sock = socket.create_connection((urlsplit(url).hostname, urlsplit(url).port), timeout=timeout)
    except OSError:
        return Answer(0)
    return _exchange(sock, request, began)


@dataclass
class Stream:
    """An open ``/api/events`` stream, read in a thread: when each keep-alive came, and
    whether the server closed it."""

    url: str
    headers: dict[str, str]
    keepalives: list[float] = field(default_factory=list)
    closed: bool = False
    opened: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Stream:
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        try:
            events = f"{self.url}/api/events"
            with requests.get(events, headers=self.headers, stream=True, timeout=60) as reply:
                assert reply.status_code == 200, reply.text[:200]
                self.opened.set()
                for line in reply.iter_lines(decode_unicode=True):
                    if line.startswith(": keep-alive"):
                        self.keepalives.append(time.monotonic())
        except (requests.RequestException, AssertionError):
            pass
        self.closed = True


class Probe:
    """``/healthz`` asked every ``every`` seconds in a thread: each answer's status and time."""

    def __init__(self, url: str, every: float = 0.1, timeout: float = 60.0) -> None:
        self.url, self.every, self.timeout = url, every, timeout
        self.answers: list[tuple[int, float]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Probe:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(self.timeout + 5)

    def _run(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            began = time.monotonic()
            try:
                status = session.get(f"{self.url}/healthz", timeout=self.timeout).status_code
            except requests.RequestException:
                status = 0
            self.answers.append((status, (time.monotonic() - began) * 1000))
            self.stop.wait(max(0.0, self.every - (time.monotonic() - began)))


def worker_pid(master: int) -> int | None:
    """gunicorn's one worker process under this master (None when it has none)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                    return int(entry.name)
            except (OSError, IndexError):
                continue
    return None
