"""Who each request is: a user signed in on the pages, or the owner of an API key; with
``TRANSCODER_AUTH=off``, the one local admin. Nothing but the public endpoints answers
without one: the API says 401 with a JSON body, a page sends to the sign-in page.

A signed-in browser's cookie (signed with the installation's secret, HttpOnly,
SameSite=Lax, Secure over HTTPS) holds a session token whose hash is in the catalog
(``transcoder.accounts.users``) and the CSRF token its unsafe requests must send back. An
API key is sent as ``Authorization: Bearer <key>`` and needs no CSRF token: a browser
never sends one on its own.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from flask import Flask, Request, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.wrappers import Response

from transcoder.accounts.users import LOCAL, User, token_hash
from transcoder.errors import Forbidden, Unauthorized

from . import revocation
from .context import services
from .redirects import local_target
from .security import SAFE_METHODS

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
#: The only body the CSRF field is read from: the pages' own forms, small (``web.bodies``).
FORM_TYPE = "application/x-www-form-urlencoded"
CSRF_REFUSED = "The page's security token is missing or stale: reload the page."
#: What answers without a user: probes, Prometheus, the sign-in page, static files.
PUBLIC = {"static", "ops.healthz", "ops.readyz", "ops.scrape", "accounts.sign_in", "accounts.sign_in_form"}


class Sessions(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the page was served over HTTPS (behind a
    proxy: with TRANSCODER_TRUSTED_PROXIES, from its X-Forwarded-Proto)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)


def register(app: Flask, auth_on: bool, lifetime_s: float) -> None:
    app.session_interface = Sessions()
    app.config.update(
        SESSION_COOKIE_NAME="transcoder_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=lifetime_s),
    )
    app.jinja_env.globals.update(csrf_token=csrf_token, current_user=lambda: g.get("user"))

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
            return redirect(url_for("accounts.sign_in_form", next=_local(request.full_path)))
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


def csrf_token() -> str:
    """The token a page puts in its requests and forms; made once per session."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def check_csrf() -> None:
    """The token comes in the ``X-CSRF-Token`` header (the pages' scripts, uploads
    included), or in the field of a page's small url-encoded form; never out of a
    multipart body, which would be parsed (and a file in it spooled to disk) only to find
    it. Anything but the session's own token, an odd one included, is 403."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.mimetype == FORM_TYPE:
        sent = request.form.get(CSRF_FIELD)
    expected = session.get("csrf")
    if not (isinstance(sent, str) and isinstance(expected, str) and expected and sent.isascii()):
        raise Forbidden(CSRF_REFUSED)
    if not hmac.compare_digest(sent, expected):
        raise Forbidden(CSRF_REFUSED)


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
    session["csrf"] = secrets.token_urlsafe(24)
    return True


def sign_out() -> None:
    """End this session, here and in every live stream it has open (they end within one
    keep-alive interval, and their reconnects are refused)."""
    token = session.get("sid")
    session.clear()
    if not (isinstance(token, str) and token):
        return
    ended = services().users.close_session(token)
    revocation.revocations().session_ended(ended)  # its open streams end (web.revocation)


def _local(target: str | None) -> str:
    """Only a path on this site may be gone to after signing in, judged as a browser reads
    it (``web.redirects``)."""
    return local_target(target)


def safe_next(req: Request) -> str:
    """Where to go after signing in: the request's ``next`` if it is a path of this server,
    else ``/``. Never raises: decided before the session is made."""
    next_value = req.values.get("next")
    return _local(next_value if isinstance(next_value, str) else None)
