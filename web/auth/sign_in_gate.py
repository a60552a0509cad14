"""The door's gate: how many sign-ins one web process takes at once, and where their
password work runs.

argon2 takes about a fifth of a second of CPU per check. Run in a greenlet, it holds the
gevent hub, and with it every other request and open stream of the process: a few hundred
sign-in posts at once stalled the process past gunicorn's timeout, which killed it with
every connection it held. So:

- **Off the loop.** Hashing runs in a small pool of real threads of its own
  (``gevent.threadpool.ThreadPool``); argon2-cffi releases the GIL for its C call, and the
  greenlet that asked waits cooperatively, so the hub goes on serving. The pool's threads
  run at a lower priority (nice 10; libargon2's lane threads inherit it), so a flood of
  hashing yields the CPU to the hub whenever the hub has work: ``/healthz`` and the
  streams stay quick while the cores are busy with hashes.
- **Bounded.** At most ``TRANSCODER_SIGN_INS_IN_FLIGHT`` sign-ins per process, the
  throttle's wait included; the next is refused at once with 429 and ``Retry-After``,
  before any password work. The CPU a flood can take, and the queue it can build, stay
  bounded too.

gevent lives here, in the web app, and not in the core: ``Users.authenticate`` takes the
function that runs its password work (``off_loop``) and knows nothing of threads.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app

#: What a refused sign-in is told: an in-flight sign-in is answered within about this long.
RETRY_AFTER_S = 1
BUSY = "This server is checking many sign-ins right now. Try again in a moment."
#: Niceness of the hashing threads (0 is the hub's).
NICE = 10


class GateFull(Exception):
    """This process already checks as many sign-ins as it may."""


def _threads() -> int:
    # libargon2 splits each check over 4 lanes, each a thread of its own: one pool
    # thread per two cores keeps them all busy.
    return max(1, min(4, (os.cpu_count() or 2) // 2))


class SignInGate:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self._lock = threading.Lock()
        self._pool: Any = None
        self._niced = threading.local()

    def full(self) -> bool:
        """Whether the next sign-in would be refused: read without taking a place."""
        return bool(self.limit) and self.in_flight >= self.limit

    @contextmanager
    def admitted(self) -> Iterator[None]:
        """One sign-in in flight for the time of the block; GateFull at once past the limit."""
        with self._lock:
            if self.limit and self.in_flight >= self.limit:
                raise GateFull
            self.in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1

    def off_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in the hashing pool; this greenlet waits, the hub goes on."""
        return self._hashing_pool().apply(self._lowered, (fn, *args))

    def _hashing_pool(self) -> Any:
        if self._pool is None:
            # Made on first use, inside the worker process gevent has patched.
            from gevent.threadpool import ThreadPool

            self._pool = ThreadPool(_threads())
        return self._pool

    def _lowered(self, fn: Callable[..., Any], *args: Any) -> Any:
        if not getattr(self._niced, "done", False):
            self._niced.done = True
            try:
                os.setpriority(os.PRIO_PROCESS, _native_thread_id(), NICE)
            except OSError:
                pass
        return fn(*args)


def _native_thread_id() -> int:
    from gevent.monkey import get_original

    return int(get_original("_thread", "get_native_id")())


def init_app(app: Flask, in_flight: int) -> None:
    """This process's gate, and its layer around the app: the outermost, so a refusal
    costs no other layer's work."""
    made = app.extensions["sign_in_gate"] = SignInGate(in_flight)
    app.wsgi_app = RefuseWhenFull(app.wsgi_app, made)  # type: ignore[method-assign]


def gate() -> SignInGate:
    """This process's gate (``init_app`` makes it, with the middleware below)."""
    return current_app.extensions["sign_in_gate"]


_REFUSED_JSON = json.dumps({"error": {"code": "too_many_sign_ins", "message": BUSY}}).encode()
_REFUSED_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · Transcoder</title>'
    f'</head><body><h1>Sign in</h1><p role="alert">{BUSY}</p>'
    '<p><a href="/signin">Back to sign-in</a></p></body></html>'
).encode()


class RefuseWhenFull:
    """WSGI middleware: while the gate is full, a ``POST /signin`` is refused here, before
    Flask: no session, no template, no body read. A flood's refusals are what the event loop
    spends its time on, so they must cost as little as possible (``make bench``'s sign-in
    flood). It takes no place itself: the view takes one only for the password check, once
    the form has been read and the throttle's wait is over, so a client that sends its body
    a byte at a time, or never, holds no place (16 such posts from one address used to keep
    every user out for as long as the slow-upload watch let them hang)."""

    def __init__(self, app: Any, gate: SignInGate) -> None:
        self.app, self.gate = app, gate

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") != "/signin" or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        if not self.gate.full():
            return self.app(environ, start_response)
        return refuse(environ, start_response)


def refuse(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    """429 with Retry-After, as cheap as an answer can be: JSON for API clients, else a page."""
    wants_json = "application/json" in environ.get("HTTP_ACCEPT", "")
    body = _REFUSED_JSON if wants_json else _REFUSED_PAGE
    kind = "application/json" if wants_json else "text/html; charset=utf-8"
    headers = [("Content-Type", kind), ("Content-Length", str(len(body))),
               ("Retry-After", str(RETRY_AFTER_S)), ("Cache-Control", "no-store")]  # fmt: skip
    start_response("429 Too Many Requests", headers)
    return [body]
