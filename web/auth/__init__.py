"""Who is asking, and what they may do.

- ``identity``: who a request is (a session, an API key, or the local admin), signing in
  and out;
- ``csrf``: the defence against foreign pages' requests, its token and its origin check;
- ``access``: may this user see this video;
- ``revocation``: each live stream's watch over the credential it was opened with;
- ``redirects``: where a browser may go after signing in;
- ``sign_in_gate``: sign-ins in flight per process, password work off the event loop;
- the views: ``sign_in`` (the sign-in page) and ``account`` (the Account page, signing
  out, ``/api/me`` and ``/api/keys``).
"""

from __future__ import annotations

from flask import Flask

from transcoder.settings import Settings


def init_app(app: Flask, settings: Settings) -> None:
    # Here, not above: a module of this package imported alone (by another package, or a
    # unit test) loads only what it imports itself, not every view.
    from . import account, csrf, identity, sign_in, sign_in_gate

    sign_in_gate.init_app(app, settings.sign_ins_in_flight)
    csrf.init_app(app, settings.host_names)  # the origin's check, before anyone is identified
    identity.init_app(app, settings)  # who is asking; then a session's token
    app.register_blueprint(sign_in.bp)
    app.register_blueprint(account.bp)
