"""The Account page (usage, API keys) and signing out, and the same for API clients:
``GET /api/me``, ``GET/POST /api/keys``, ``DELETE /api/keys/<id>``."""

from __future__ import annotations

import redis
from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for

from transcoder.accounts import reservations
from transcoder.accounts.keys import ApiKey
from transcoder.accounts.quotas import Usage
from transcoder.errors import Forbidden, InvalidInput, Unavailable

from ..json_body import json_body
from ..services import services
from . import identity, revocation

bp = Blueprint("account", __name__)

MAX_FIELD = 1024


@bp.post("/signout")
def sign_out() -> Response:
    identity.sign_out()
    return redirect(url_for("sign_in.form"))


@bp.get("/account")
def page() -> str:
    user = identity.current_user()
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
    user = identity.current_user()
    svc = services()
    check_key_right(want_right=False)
    made, secret = svc.keys.create(user, request.form.get("name", "")[:MAX_FIELD])
    return render_template("account.html", active="account", user=user, usage=svc.quotas.usage(user),
                           keys=svc.keys.of_user(user), made=(made, secret))  # fmt: skip


@bp.post("/account/keys/<key_id>/revoke")
def revoke_key_page(key_id: str) -> Response:
    revoked = services().keys.revoke(key_id, identity.current_user())
    revocation.revocations().key_revoked(revoked.id)  # its open streams end too
    return redirect(url_for("account.page"))


@bp.get("/api/me")
def me():  # type: ignore[no-untyped-def]
    user = identity.current_user()
    svc = services()
    usage = usage_json(svc.quotas.usage(user))
    # Counted against the quotas as well, so a refusal can be understood from here.
    try:
        usage["uploads_under_way_bytes"] = reservations.held_bytes(svc.redis, user.id)
    except redis.RedisError as exc:
        raise Unavailable("Your usage cannot be read right now; try again in a minute.") from exc
    return jsonify({"name": user.name, "role": user.role, "usage": usage})


@bp.get("/api/keys")
def list_keys():  # type: ignore[no-untyped-def]
    return jsonify({"keys": [key_json(k) for k in services().keys.of_user(identity.current_user())]})


@bp.post("/api/keys")
def create_key():  # type: ignore[no-untyped-def]
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise InvalidInput('Send JSON such as {"name": "laptop"}.', code="bad_request")
    right = body.get("may_create_keys", False)
    if not isinstance(right, bool):
        raise InvalidInput('"may_create_keys" is true or false.', code="bad_request")
    check_key_right(want_right=right)
    made, secret = services().keys.create(identity.current_user(), body["name"][:MAX_FIELD], right)
    return jsonify({**key_json(made), "key": secret}), 201


@bp.delete("/api/keys/<key_id>")
def revoke_key(key_id: str):  # type: ignore[no-untyped-def]
    revoked = services().keys.revoke(key_id, identity.current_user())
    revocation.revocations().key_revoked(revoked.id)  # its open streams end too
    return jsonify(key_json(revoked))


def check_key_right(want_right: bool) -> None:
    """A signed-in user may create keys, with the right to create keys or without. A request
    made with a key may only if that key has the right, and never passes it on: a stolen
    key cannot breed keys that outlive its revocation."""
    key_id = identity.key_id()
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
