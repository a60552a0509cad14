"""Users and their sign-in sessions, in the catalog's database.

A session is a random token in the browser's signed cookie and its hash in the
database, so signing out (or disabling the user) ends it on the server too, and a
restart or a Redis that lost everything signs nobody out.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from transcoder.accounts import passwords, revocations
from transcoder.errors import Conflict, InvalidInput, UserNotFound
from transcoder.records.account_rows import KeyRow, SessionRow, UserRow
from transcoder.records.catalog import Catalog

ROLES = ("admin", "uploader")
NAME = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}\Z")
#: Built-in users: the owner of the keys in TRANSCODER_API_KEYS, and the one local admin
#: every request acts as with TRANSCODER_AUTH=off. Neither can sign in with a password.
SERVICE, LOCAL = "service", "local"
#: A "hash" no password verifies against.
NO_PASSWORD = "!"
#: Last-seen times are written at most this often per user or session, in seconds.
TOUCH_S = 60.0


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: str
    created_at: float
    last_seen_at: float | None
    disabled: bool
    storage_quota: int | None
    daily_quota: int | None
    #: Which password this user was read with (``password_stamp``): a session is opened only
    #: while it is still the user's (a new password meanwhile refuses it).
    stamp: str = ""

    @property
    def admin(self) -> bool:
        return self.role == "admin"

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(row.id, row.name, row.role, row.created_at, row.last_seen_at, bool(row.disabled),
                   row.storage_quota, row.daily_quota, password_stamp(row.password_hash))  # fmt: skip


def password_stamp(password_hash: str) -> str:
    """A short digest of a password's hash: tells two passwords apart, reveals neither."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Users:
    """Users and sessions, behind a small interface."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    # -- users -----------------------------------------------------------------------

    def add(self, name: str, password: str, role: str = "uploader") -> User:
        if not NAME.match(name):
            raise InvalidInput(
                "A user name is 1 to 64 letters, digits and . _ @ -, starting with a letter or digit.",
                code="bad_name",
            )
        if role not in ROLES:
            raise InvalidInput(f"A role is admin or uploader, not {role!r}.", code="bad_role")
        row = UserRow(id=secrets.token_hex(16), name=name, password_hash=passwords.hash_password(password),
                      role=role, created_at=time.time(), disabled=False)  # fmt: skip
        try:
            with self.catalog.begin() as session:
                session.add(row)
        except IntegrityError:
            raise Conflict(f"There is already a user named {name!r}.") from None
        return User.of(row)

    def builtin(self, name: str, role: str) -> User:
        """The built-in user ``name``, made the first time it is needed."""
        found = self.by_name(name)
        if found is not None:
            return found
        row = UserRow(id=secrets.token_hex(16), name=name, password_hash=NO_PASSWORD, role=role,
                      created_at=time.time(), disabled=False)  # fmt: skip
        try:
            with self.catalog.begin() as session:
                session.add(row)
        except IntegrityError:  # another process made it first
            pass
        found = self.by_name(name)
        assert found is not None
        return found

    def get(self, user_id: str) -> User | None:
        with self.catalog.begin() as session:
            row = session.get(UserRow, user_id)
            return None if row is None else User.of(row)

    def by_name(self, name: str) -> User | None:
        with self.catalog.begin() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            return None if row is None else User.of(row)

    def named(self, name: str) -> User:
        user = self.by_name(name)
        if user is None:
            raise UserNotFound(f"No user named {name!r}.")
        return user

    def all(self) -> list[User]:
        with self.catalog.begin() as session:
            return [User.of(r) for r in session.scalars(select(UserRow).order_by(UserRow.created_at))]

    def people(self) -> int:
        """How many users can sign in (the built-in ones cannot)."""
        with self.catalog.begin() as session:
            return session.scalar(select(func.count()).where(UserRow.password_hash != NO_PASSWORD)) or 0

    def change(self, name: str, **fields: object) -> User:
        """Set a user's password (hashed here), role, disabled flag or quotas. Disabling, or a
        new password, ends every session of theirs; a new password revokes every API key of
        theirs too (a thief who took a session, or a key, and made keys with it keeps
        nothing). The caller tells the open streams (``transcoder.accounts.revocations``)."""
        if "password" in fields:
            fields["password_hash"] = passwords.hash_password(str(fields.pop("password")))
        if fields.get("role", "uploader") not in ROLES:
            raise InvalidInput(f"A role is admin or uploader, not {fields['role']!r}.", code="bad_role")
        with self.catalog.begin() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                raise UserNotFound(f"No user named {name!r}.")
            for field, value in fields.items():
                setattr(row, field, value)
            if fields.get("disabled") or "password_hash" in fields:
                session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
            if "password_hash" in fields:
                self._revoke_keys(session, row.id)
            return User.of(row)

    def authenticate(self, name: str, password: str, run: passwords.Runner = passwords.here) -> User | None:
        """The user this name and password sign in, or None (unknown, wrong or disabled).

        ``run(fn, *args)`` runs the password work (argon2: a fifth of a second of CPU): the
        web app passes one that runs it off its event loop (``web.auth.sign_in_gate``), the CLI
        none. No database connection is held while it runs."""
        found = None
        if NAME.match(name):  # no user has another name: a NUL, say, never reaches PostgreSQL
            with self.catalog.begin() as session:
                row = session.scalar(select(UserRow).where(UserRow.name == name))
                if row is not None and row.password_hash != NO_PASSWORD:
                    found = (row.id, row.password_hash)
        if found is None:
            run(passwords.verify, passwords.DECOY, password)  # as slow as a real check
            return None
        user_id, stored = found
        if not run(passwords.verify, stored, password):
            return None
        fresh = run(passwords.hash_password, password) if passwords.needs_rehash(stored) else None
        with self.catalog.begin() as session:
            row = session.get(UserRow, user_id)
            if row is None or row.disabled or row.password_hash != stored:  # changed meanwhile
                return None
            if fresh is not None:
                row.password_hash = fresh
            row.last_seen_at = time.time()
            return User.of(row)

    @staticmethod
    def _revoke_keys(session: Session, user_id: str) -> None:
        session.execute(
            update(KeyRow)
            .where(KeyRow.user_id == user_id, KeyRow.revoked_at.is_(None))
            .values(revoked_at=time.time())
        )

    # -- sessions --------------------------------------------------------------------

    def open_session(self, user: User) -> str | None:
        """A new session's token (for the cookie); only its hash is kept. None if the user's
        password changed since ``user`` was read (it was checked against the old one), or
        they were disabled: the user's row is locked while the session is added, so a new
        password either comes first and refuses it, or comes after and ends it."""
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self.catalog.begin() as session:
            row = session.get(UserRow, user.id, with_for_update=True)
            if row is None or row.disabled or password_stamp(row.password_hash) != user.stamp:
                return None
            session.add(SessionRow(id=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now))
        return token

    def session_user(self, token: str, lifetime_s: float) -> User | None:
        """Who this session's token signs in: None once signed out, expired or disabled."""
        now = time.time()
        with self.catalog.begin() as session:
            found = session.execute(
                select(SessionRow, UserRow)
                .join(UserRow, UserRow.id == SessionRow.user_id)
                .where(SessionRow.id == token_hash(token))
            ).first()
            if found is None:
                return None
            row, user = found
            if user.disabled or now - row.last_seen_at > lifetime_s:
                return None
            if now - row.last_seen_at > TOUCH_S:
                row.last_seen_at = user.last_seen_at = now
            return User.of(user)

    def close_session(self, token: str) -> str:
        """End a session; returns its hash (what its open streams know it by)."""
        with self.catalog.begin() as session:
            session.execute(delete(SessionRow).where(SessionRow.id == token_hash(token)))
        return token_hash(token)

    def session_verdict(self, session_hash: str) -> str | None:
        """For a stream opened in this session: None while it is still signed in, else why
        not (``transcoder.accounts.revocations``)."""
        with self.catalog.begin() as session:
            found = session.execute(
                select(UserRow.disabled)
                .join(SessionRow, UserRow.id == SessionRow.user_id)
                .where(SessionRow.id == session_hash)
            ).first()
        if found is None:
            return revocations.SIGNED_OUT
        return revocations.USER_DISABLED if found[0] else None

    def sessions_of(self, name: str) -> list[str]:
        """The hashes of a user's open sessions."""
        with self.catalog.begin() as session:
            rows = session.scalars(
                select(SessionRow.id)
                .join(UserRow, UserRow.id == SessionRow.user_id)
                .where(UserRow.name == name)
            )
            return list(rows)
