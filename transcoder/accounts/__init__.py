"""Who may do what: users and their passwords, sign-in sessions, API keys, the delay
after failed sign-ins, and quotas.

May import ``errors``, ``records`` (the catalog's tables, Redis names) and ``settings``;
nothing of the web app: ``web.auth.identity`` asks these who a request is.
"""
