"""Revocation in the web app: each live stream (event stream or WebSocket) watches the
credential it was opened with (a session, or an API key) and its user, and ends within
one keep-alive interval (``TRANSCODER_STREAM_KEEPALIVE``) of the credential's revocation, on
every web process: ``event: end`` with ``{"reason": ...}``, or a close frame 1008 with the
reason. Its reconnects are refused (401), as every request of a revoked credential is.

How (re-checked at each keep-alive, not published: see ``transcoder.accounts.revocations``
for why): one Redis lookup per stream per keep-alive, the catalog asked when a marker
changes and every ``CATALOG_EVERY`` keep-alives whatever Redis says.
"""

from __future__ import annotations

import math

from flask import g

from transcoder.accounts.revocations import Revocations, Watch
from transcoder.records import redis_keys

from ..services import services


def revocations() -> Revocations:
    """Where this process marks what it revokes (signing out, a key revoked)."""
    svc = services()
    return Revocations(svc.redis, svc.settings.session_lifetime)


class Unwatched:
    """A stream with no credential to revoke (the local admin of TRANSCODER_AUTH=off)."""

    def ended(self) -> str | None:
        return None

    def next_check_in(self) -> float:
        return math.inf


def watch() -> Watch | Unwatched:
    """For a live stream, made while its request is served: ``ended()``, cheap to call as
    often as it likes, answers None while its credential holds, then why it was revoked;
    the stream waits for news no longer than ``next_check_in()``."""
    user, session_hash, key_id = g.get("user"), g.get("session_hash"), g.get("key_id")
    svc = services()
    if user is None:
        return Unwatched()
    if session_hash:
        marker = redis_keys.revoked_key("session", session_hash)
        verdict = lambda: svc.users.session_verdict(session_hash)  # noqa: E731
    elif key_id:
        marker = redis_keys.revoked_key("key", key_id)
        verdict = lambda: svc.keys.verdict(key_id)  # noqa: E731
    else:  # TRANSCODER_AUTH=off: the local admin, no credential to revoke
        return Unwatched()
    markers = [marker, redis_keys.revoked_key("user", user.id)]
    return Watch(svc.redis, markers, verdict, svc.settings.stream_keepalive)


def verdict() -> str | None:
    """Asked of the catalog now, for this request's credential: None while it holds, else
    why not (an upload asks once its body has come, before anything is kept)."""
    svc = services()
    session_hash, key_id = g.get("session_hash"), g.get("key_id")
    if session_hash:
        return svc.users.session_verdict(session_hash)
    if key_id:
        return svc.keys.verdict(key_id)
    return None
