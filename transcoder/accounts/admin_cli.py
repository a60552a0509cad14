"""``transcoder users …`` and ``transcoder keys …``: an operator's commands, run on the
server against the catalog's database directly (as Django's ``createsuperuser``), so the
first admin can be made before anyone can sign in."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import redis

from transcoder.accounts import passwords, revocations
from transcoder.accounts.keys import Keys
from transcoder.accounts.quotas import Quotas
from transcoder.accounts.revocations import Revocations
from transcoder.accounts.users import Users
from transcoder.records import redis_keys
from transcoder.records.catalog import Catalog
from transcoder.records.database import make_engine, migrate
from transcoder.settings import Settings

#: The first admin `make run` makes when there is no user yet.
FIRST_ADMIN = "admin"


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser("users", help="manage users (on the server: works on the database directly)")
    do = users.add_subparsers(dest="action", required=True)
    add = do.add_parser("add", help="make a user; prints a random password unless --password-stdin")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true", help="an admin sees and manages every video")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    do.add_parser("list", help="every user, with role, state and usage")
    for action, what in (
        ("disable", "stop a user signing in or using keys; ends their sessions and open streams"),
        ("enable", "undo disable"),
    ):
        do.add_parser(action, help=what).add_argument("name")
    passwd = do.add_parser(
        "passwd",
        help="set a new password (random unless --password-stdin); ends the user's sessions, "
        "revokes their API keys, and ends every open stream of theirs",
    )
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")
    quota = do.add_parser("quota", help="a user's own quotas in bytes (0: none; 'default': the setting's)")
    quota.add_argument("name")
    quota.add_argument("--storage")
    quota.add_argument("--daily")
    do.add_parser("first-admin", help=f"make {FIRST_ADMIN!r} with a random password if there is no user yet")
    keys = sub.add_parser("keys", help="manage API keys (on the server)")
    kdo = keys.add_subparsers(dest="action", required=True)
    create = kdo.add_parser("create", help="make a key for a user; prints it once")
    create.add_argument("--user", required=True)
    create.add_argument("--name", default="cli")
    create.add_argument(
        "--may-create-keys", action="store_true", help="requests made with this key may create keys"
    )
    listing = kdo.add_parser("list", help="a user's keys")
    listing.add_argument("--user", required=True)
    revoke = kdo.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("id")


def run(args: argparse.Namespace, settings: Settings) -> int:
    catalog = Catalog(make_engine(settings.database_url))
    migrate(catalog.engine)
    users = Users(catalog)
    if args.command == "keys":
        return _keys(args, users, Keys(catalog, users), settings)
    if args.action == "add":
        password = _password(args.password_stdin)
        user = users.add(args.name, password, "admin" if args.admin else "uploader")
        print(f"made {user.role} {user.name!r}" + ("" if args.password_stdin else f"; password: {password}"))
    elif args.action == "list":
        quotas = Quotas(catalog, settings.storage_quota, settings.daily_quota)
        print(f"{'NAME':<24} {'ROLE':<9} {'STATE':<9} {'STORED':>10} {'TODAY':>10}  LAST SEEN")
        for user in users.all():
            usage = quotas.usage(user)
            seen = (
                time.strftime("%Y-%m-%d %H:%M", time.localtime(user.last_seen_at))
                if user.last_seen_at
                else "never"
            )
            state = "disabled" if user.disabled else "active"
            stored, today = usage.stored, usage.uploaded_today
            print(f"{user.name:<24} {user.role:<9} {state:<9} {stored:>10} {today:>10}  {seen}")
    elif args.action in ("disable", "enable"):
        user = users.change(args.name, disabled=args.action == "disable")
        if args.action == "disable":
            _tell_streams(settings, lambda told: told.user_cut(user.id, revocations.USER_DISABLED))
        print(f"{args.action}d {args.name!r}")
    elif args.action == "passwd":
        password = _password(args.password_stdin)
        user = users.change(args.name, password=password)
        _tell_streams(settings, lambda told: told.user_cut(user.id, revocations.PASSWORD_CHANGED))
        print(f"new password for {args.name!r}" + ("" if args.password_stdin else f": {password}"))
        print("(their sessions are ended and their API keys revoked)", file=sys.stderr)
    elif args.action == "quota":
        fields = {f"{kind}_quota": _bytes(value) for kind, value in (("storage", args.storage),
                  ("daily", args.daily)) if value is not None}  # fmt: skip
        user = users.change(args.name, **fields)
        storage, daily = user.storage_quota, user.daily_quota
        print(f"{user.name!r}: storage quota {storage}, daily quota {daily} (None: the setting's)")
    elif args.action == "first-admin":
        if users.people() == 0:
            password = passwords.new_password()
            users.add(FIRST_ADMIN, password, "admin")
            print(f"Sign in as {FIRST_ADMIN} with the password {password} (shown only now; "
                  f"`transcoder users passwd {FIRST_ADMIN}` sets another)")  # fmt: skip
    return 0


def _tell_streams(settings: Settings, mark: Callable[[Revocations], bool]) -> None:
    """Tell the web processes' open streams of a revocation (already in the catalog). Best
    effort: with Redis out of reach they end at their next look at the catalog instead
    (``revocations.CATALOG_EVERY`` keep-alives), and their reconnects are refused."""
    redis_keys.use(settings.redis_prefix)
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=5)
    try:
        if not mark(Revocations(client, settings.session_lifetime)):
            print(
                "(Redis is out of reach: open streams end at their next look at the catalog, "
                f"within {revocations.CATALOG_EVERY} keep-alive intervals)",
                file=sys.stderr,
            )
    finally:
        client.close()


def _keys(args: argparse.Namespace, users: Users, keys: Keys, settings: Settings) -> int:
    if args.action == "create":
        made, secret = keys.create(users.named(args.user), args.name, args.may_create_keys)
        right = ", may create keys" if made.may_create_keys else ""
        print(f"key {made.id} ({made.name}{right}) for {args.user!r}, shown only now:\n{secret}")
    elif args.action == "list":
        for key in keys.of_user(users.named(args.user)):
            state = "revoked" if key.revoked_at else "active"
            right = "  (may create keys)" if key.may_create_keys else ""
            print(f"{key.id}  {state:<8} {key.name}{right}")
    else:
        keys.revoke(args.id, None)
        _tell_streams(settings, lambda told: told.key_revoked(args.id))
        print(f"revoked {args.id}")
    return 0


def _password(from_stdin: bool) -> str:
    if not from_stdin:
        return passwords.new_password()
    password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        raise SystemExit("a password needs at least 8 characters")
    return password


def _bytes(value: str) -> int | None:
    if value == "default":
        return None
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"a quota is a number of bytes, 0 or 'default', not {value!r}") from None
    if number < 0:
        raise SystemExit("a quota must not be negative")
    return number
