"""``transcoder users …`` and ``transcoder keys …``: an operator's commands, run on the
server against the catalog's database directly (as Django's ``createsuperuser``), so the
first admin can be made before anyone can sign in."""

from __future__ import annotations

import argparse
import sys
import time

import redis

from transcoder.accounts import passwords
from transcoder.accounts.keys import Keys
from transcoder.accounts.quotas import Quotas
from transcoder.accounts.users import Users
from transcoder.records import redis_keys
from transcoder.records.catalog import Catalog
from transcoder.records.database import make_engine, migrate
from transcoder.settings import Settings

#: The first admin `make run` makes when there is no user yet.
FIRST_ADMIN = "admin"


def add_commands(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="manage users (on the server: works on the database directly)")
    do = users.add_subparsers(dest="action", required=True)
    add = do.add_parser("add", help="make a user; prints a random password unless --password-stdin")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true", help="an admin sees and manages every video")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    do.add_parser("list", help="every user, with role, state and usage")
    for action, what in (("disable", "stop a user signing in or using keys"), ("enable", "undo disable")):
        do.add_parser(action, help=what).add_argument("name")
    passwd = do.add_parser("passwd", help="set a new password (random unless --password-stdin)")
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
    listing = kdo.add_parser("list", help="a user's keys")
    listing.add_argument("--user", required=True)
    revoke = kdo.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("id")


def run(args: argparse.Namespace, settings: Settings) -> int:
    catalog = Catalog(make_engine(settings.database_url))
    migrate(catalog.engine)
    users = Users(catalog)
    if args.command == "keys":
        return _keys(args, users, Keys(catalog, users))
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
        ended = users.sessions_of(args.name)
        users.change(args.name, disabled=args.action == "disable")
        if args.action == "disable":
            mark_signed_out(settings, ended)
        print(f"{args.action}d {args.name!r}")
    elif args.action == "passwd":
        password = _password(args.password_stdin)
        users.change(args.name, password=password)
        print(f"new password for {args.name!r}" + ("" if args.password_stdin else f": {password}"))
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


def mark_signed_out(settings: Settings, session_hashes: list[str]) -> None:
    """Tell the web processes' open streams of these sessions to end (best effort: a Redis
    out of reach only leaves them to end at their next reconnect, which is refused)."""
    if not session_hashes:
        return
    redis_keys.use(settings.redis_prefix)
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3)
    try:
        with client.pipeline() as pipe:
            for session_hash in session_hashes:
                pipe.set(redis_keys.signed_out_key(session_hash), 1, ex=int(settings.session_lifetime))
            pipe.execute()
    except redis.RedisError as exc:
        print(f"(open streams not told: Redis is out of reach: {exc})", file=sys.stderr)


def _keys(args: argparse.Namespace, users: Users, keys: Keys) -> int:
    if args.action == "create":
        made, secret = keys.create(users.named(args.user), args.name)
        print(f"key {made.id} ({made.name}) for {args.user!r}, shown only now:\n{secret}")
    elif args.action == "list":
        for key in keys.of_user(users.named(args.user)):
            state = "revoked" if key.revoked_at else "active"
            print(f"{key.id}  {state:<8} {key.name}")
    else:
        keys.revoke(args.id, None)
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
