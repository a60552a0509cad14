"""Who each request is: a user signed in on the pages, or the owner of an API key; with
``TRANSCODER_AUTH=off``, the one local admin. Nothing but the public endpoints answers
without one: the API says 401 with a JSON body, a page sends to the sign-in page.

A signed-in browser's cookie (signed with the installation's secret, HttpOnly,
SameSite=Lax, Secure over HTTPS) holds a session token whose hash is in the catalog
(``transcoder.accounts.users``) and the CSRF token its unsafe requests must send back
(``web.auth.csrf``). An API key is sent as ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.wrappers import Response

from transcoder.accounts.secret_key import signing_secret
from transcoder.accounts.users import LOCAL, User, token_hash
from transcoder.errors import Unauthorized
from transcoder.settings import Settings

from ..services import services
from . import revocation
from .csrf import SAFE_METHODS, check_csrf, new_token
from .redirects import local_target

log = logging.getLogger(__name__)
LOOPBACK = ("127.0.0.1", "::1", "localhost")
#: What answers without a user: probes, Prometheus, the sign-in page, static files.
PUBLIC = {"static", "ops.healthz", "ops.readyz", "ops.scrape", "sign_in.form", "sign_in.submit"}


class Sessions(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the page was served over HTTPS (behind a
    proxy: with TRANSCODER_TRUSTED_PROXIES, from its X-Forwarded-Proto)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)


def init_app(app: Flask, settings: Settings) -> None:
    auth_on, lifetime_s = settings.auth == "on", settings.session_lifetime
    if settings.auth == "off":
        log.warning("TRANSCODER_AUTH=off: every request acts as the local admin")
        if settings.host not in LOOPBACK:
            log.warning("TRANSCODER_AUTH=off on %s, an address others can reach: anyone there is admin",
                        settings.host)  # fmt: skip
    app.secret_key = signing_secret(settings)
    app.session_interface = Sessions()
    app.config.update(
        SESSION_COOKIE_NAME="transcoder_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=lifetime_s),
    )
    app.jinja_env.globals.update(current_user=lambda: g.get("user"))

    @app.before_request
    def _who() -> Response | None:
        g.user, g.key_id, g.by_session = _identify(auth_on, lifetime_s)
        token = session.get("sid") if g.by_session else None
        g.session_hash = token_hash(token) if token else None
        if request.endpoint in PUBLIC:
            return None
        if g.user is None:
            if request.path.startswith("/api/") or request.endpoint is None:
                raise Unauthorized(
                    "Sign in, or send an API key: 'Authorization: Bearer <key>' (keys are made on "
                    "the Account page or with `transcoder keys create`)."
                )
            return redirect(url_for("sign_in.form", next=local_target(request.full_path)))
        if g.by_session and request.method not in SAFE_METHODS:
            check_csrf()
        return None


def _identify(auth_on: bool, lifetime_s: float) -> tuple[User | None, str | None, bool]:
    """(user, id of the API key used, whether by a page session)."""
    svc = services()
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    # Public routes never look at a bearer: /metrics's is the metrics token, not an API key
    # (``web.ops.may_scrape``), and a probe's or the sign-in page's answer must not hang on
    # one (any header value, however odd, is still answered: /healthz never fails on it).
    if scheme.lower() == "bearer" and request.endpoint not in PUBLIC:
        found = svc.keys.user_for(key)
        if found is None:
            raise Unauthorized("This API key is unknown, revoked, or its user is disabled.")
        return found[0], found[1], False
    if not auth_on:
        return local_admin(), None, False
    token = session.get("sid")
    if isinstance(token, str) and token:
        user = svc.users.session_user(token, lifetime_s)
        if user is not None:
            return user, None, True
        session.clear()  # signed out elsewhere, expired, or disabled
    return None, None, False


def local_admin() -> User:
    """The one user of TRANSCODER_AUTH=off, looked up once per process: requests for videos
    still answer while the database is down."""
    found = current_app.extensions.get("local_admin")
    if found is None:
        found = current_app.extensions["local_admin"] = services().users.builtin(LOCAL, "admin")
    return found


def current_user() -> User:
    """The user of this request (every non-public route has one)."""
    user = g.get("user")
    if user is None:
        raise Unauthorized("Sign in first.")
    return user


def key_id() -> str | None:
    """The id of the API key this request came with, if any (recorded with an upload)."""
    return g.get("key_id")


def client_id() -> str:
    """Who holds live streams, for the per-client cap: the user (each key of the built-in
    service user counts alone). With TRANSCODER_AUTH=off a request with no key is the one
    local admin whoever sends it, so it counts by its address (the client's, behind
    trusted proxies), or one cap would hold for the whole installation."""
    user = g.get("user")
    if user is None or not (key_id() or g.get("by_session")):
        return "addr:" + (request.remote_addr or "")
    key = key_id()
    return f"key:{key}" if key and user.name == "service" else f"user:{user.id}"


def sign_in(user: User) -> bool:
    """A fresh session for ``user``: nothing of the one before survives (no fixation).
    False, and no session, if their password changed since it was checked."""
    old = session.get("sid")
    if isinstance(old, str) and old:
        services().users.close_session(old)
    session.clear()
    token = services().users.open_session(user)
    if token is None:
        return False
    session.permanent = True
    session["sid"] = token
    session["csrf"] = new_token()
    return True


def sign_out() -> None:
    """End this session, here and in every live stream it has open (they end within one
    keep-alive interval, and their reconnects are refused)."""
    token = session.get("sid")
    session.clear()
    if not (isinstance(token, str) and token):
        return
    ended = services().users.close_session(token)
    revocation.revocations().session_ended(ended)  # its open streams end (web.auth.revocation)
