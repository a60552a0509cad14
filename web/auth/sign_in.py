"""The sign-in page: ``GET /signin`` shows the form, ``POST /signin`` checks the password
and opens a session (signing out, and the Account page, are ``web.auth.account``'s)."""

from __future__ import annotations

import time

from flask import Blueprint, Response, redirect, render_template, request

from ..errors import error_response
from ..services import services
from . import identity, sign_in_gate
from .redirects import safe_next

bp = Blueprint("sign_in", __name__)

MAX_FIELD = 1024


@bp.get("/signin")
def form() -> str:
    return render_template("signin.html", next=safe_next(request), name="", message=None)


@bp.post("/signin")
def submit() -> Response | tuple[str, int]:
    """Each counted by the throttle as it starts, its password checked off the event loop,
    at most TRANSCODER_SIGN_INS_IN_FLIGHT checks at once per process (``sign_in_gate``;
    while the gate is full, its middleware refuses sign-ins before they reach here)."""
    return _sign_in(sign_in_gate.gate())


def _too_many(code: str, message: str, retry_after_s: int) -> Response | tuple[str, int]:
    """429 with Retry-After, before any password work: JSON for API clients, else the page."""
    if request.accept_mimetypes.best == "application/json":
        reply, status = error_response(code, message, 429)
    else:
        page = render_template("signin.html", next=safe_next(request), name="", message=message)
        reply, status = Response(page, mimetype="text/html"), 429
    reply.headers["Retry-After"] = str(retry_after_s)
    return reply, status


def _sign_in(gate: sign_in_gate.SignInGate) -> Response | tuple[str, int]:
    svc = services()
    name = request.form.get("name", "")[:MAX_FIELD].strip()
    password = request.form.get("password", "")[:MAX_FIELD]
    address = request.remote_addr or ""
    turn = svc.throttle.begin(name, address)  # counted now, as it starts
    if turn.refused:
        return _too_many("too_many_attempts", "Too many sign-in attempts from this address. "
                         f"Try again in {turn.retry_after_s} s.", turn.retry_after_s)  # fmt: skip
    # The wait comes before the check: a guesser learns nothing sooner by being right.
    # (gevent's sleep: only this greenlet waits.)
    time.sleep(turn.wait_s)
    try:
        # A place only for the check: a body still on its way, or the wait, holds none.
        with gate.admitted():
            user = svc.users.authenticate(name, password, gate.off_loop) if name and password else None
    except sign_in_gate.GateFull:
        return _too_many("too_many_sign_ins", sign_in_gate.BUSY, sign_in_gate.RETRY_AFTER_S)
    target = safe_next(request)  # decided first: a bad `next` never leaves half a session
    # A password changed since it was checked opens no session (identity.sign_in is False).
    if user is None or not identity.sign_in(user):
        message = "Wrong name or password. Each failed try makes the next answer slower."
        page = render_template("signin.html", next=safe_next(request), name=name, message=message)
        return page, 401
    svc.throttle.succeeded(name, address)
    return redirect(target)
