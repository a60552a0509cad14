"""Signing in and out, the Account page (usage, API keys), and the same for API clients:
``GET /api/me``, ``GET/POST /api/keys``, ``DELETE /api/keys/<id>``."""

from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for

from transcoder.accounts.keys import ApiKey
from transcoder.accounts.quotas import Usage
from transcoder.errors import Forbidden, InvalidInput

from . import auth, revocation, sign_in_gate
from .context import services
from .errors import error_response
from .json_body import json_body

bp = Blueprint("accounts", __name__)

MAX_FIELD = 1024


@bp.get("/signin")
def sign_in_form() -> str:
    return render_template("signin.html", next=auth.safe_next(request), name="", message=None)


@bp.post("/signin")
def sign_in() -> Response | tuple[str, int]:
    """Each counted by the throttle as it starts, its password checked off the event loop,
    at most TRANSCODER_SIGN_INS_IN_FLIGHT checks at once per process (``web.sign_in_gate``;
    while the gate is full, its middleware refuses sign-ins before they reach here)."""
    return _sign_in(sign_in_gate.gate())


def _too_many(code: str, message: str, retry_after_s: int) -> Response | tuple[str, int]:
    """429 with Retry-After, before any password work: JSON for API clients, else the page."""
    if request.accept_mimetypes.best == "application/json":
        reply, status = error_response(code, message, 429)
    else:
        page = render_template("signin.html", next=auth.safe_next(request), name="", message=message)
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
    target = auth.safe_next(request)  # decided first: a bad `next` never leaves half a session
    # A password changed since it was checked opens no session (auth.sign_in is False).
    if user is None or not auth.sign_in(user):
        message = "Wrong name or password. Each failed try makes the next answer slower."
        page = render_template("signin.html", next=auth.safe_next(request), name=name, message=message)
        return page, 401
    svc.throttle.succeeded(name, address)
    return redirect(target)


@bp.post("/signout")
def sign_out() -> Response:
    auth.sign_out()
    return redirect(url_for("accounts.sign_in_form"))


@bp.get("/account")
def account() -> str:
    user = auth.current_user()
    svc = services()
    return render_template(
        "account.html",
        active="account",
        user=user,
        usage=svc.quotas.usage(user),
        keys=svc.keys.of_user(user),
        made=None,
    )


@bp.post("/account/keys")
def create_key_page() -> str:
    user = auth.current_user()
    svc = services()
    check_key_right(want_right=False)
    made, secret = svc.keys.create(user, request.form.get("name", "")[:MAX_FIELD])
    return render_template("account.html", active="account", user=user, usage=svc.quotas.usage(user),
                           keys=svc.keys.of_user(user), made=(made, secret))  # fmt: skip


@bp.post("/account/keys/<key_id>/revoke")
def revoke_key_page(key_id: str) -> Response:
    revoked = services().keys.revoke(key_id, auth.current_user())
    revocation.revocations().key_revoked(revoked.id)  # its open streams end too
    return redirect(url_for("accounts.account"))


@bp.get("/api/me")
def me():  # type: ignore[no-untyped-def]
    user = auth.current_user()
    return jsonify({"name": user.name, "role": user.role, "usage": usage_json(services().quotas.usage(user))})


@bp.get("/api/keys")
def list_keys():  # type: ignore[no-untyped-def]
    return jsonify({"keys": [key_json(k) for k in services().keys.of_user(auth.current_user())]})


@bp.post("/api/keys")
def create_key():  # type: ignore[no-untyped-def]
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise InvalidInput('Send JSON such as {"name": "laptop"}.', code="bad_request")
    right = body.get("may_create_keys", False)
    if not isinstance(right, bool):
        raise InvalidInput('"may_create_keys" is true or false.', code="bad_request")
    check_key_right(want_right=right)
    made, secret = services().keys.create(auth.current_user(), body["name"][:MAX_FIELD], right)
    return jsonify({**key_json(made), "key": secret}), 201


@bp.delete("/api/keys/<key_id>")
def revoke_key(key_id: str):  # type: ignore[no-untyped-def]
    revoked = services().keys.revoke(key_id, auth.current_user())
    revocation.revocations().key_revoked(revoked.id)  # its open streams end too
    return jsonify(key_json(revoked))


def check_key_right(want_right: bool) -> None:
    """A signed-in user may create keys, with the right to create keys or without. A request
    made with a key may only if that key has the right, and never passes it on: a stolen
    key cannot breed keys that outlive its revocation."""
    key_id = auth.key_id()
    if key_id is None:
        return
    if not services().keys.may_create_keys(key_id):
        raise Forbidden(
            "This API key may not create keys. Create keys on the Account page, or ask the operator "
            "for a key that may: `transcoder keys create --user <name> --may-create-keys`."
        )
    if want_right:
        raise Forbidden("A key made with an API key cannot create keys; make such a key on the Account page.")


def key_json(key: ApiKey) -> dict:
    return {"id": key.id, "name": key.name, "created_at": key.created_at, "last_used_at": key.last_used_at,
            "revoked": key.revoked_at is not None, "may_create_keys": key.may_create_keys}  # fmt: skip


def usage_json(usage: Usage) -> dict:
    return {
        "stored_bytes": usage.stored,
        "storage_quota": usage.storage_quota or None,
        "uploaded_today_bytes": usage.uploaded_today,
        "daily_quota": usage.daily_quota or None,
    }
