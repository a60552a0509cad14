"""API keys: each belongs to a user, has a name, is shown once when made and kept only as
its SHA-256 (a key is 43 random characters: nothing to guess, so no slow hash is needed),
and can be revoked. The keys in ``TRANSCODER_API_KEYS`` belong to the built-in service user
and are checked the same way, without rows.

A key may create keys only if it was made with that right (``may_create_keys``: by a
signed-in user, or the operator's ``transcoder keys create --may-create-keys``); a key
made through a key never has it, nor do the keys of ``TRANSCODER_API_KEYS``."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select

from transcoder.accounts import revocations
from transcoder.accounts.users import SERVICE, TOUCH_S, User, Users
from transcoder.errors import InvalidInput, KeyNotFound
from transcoder.records.account_rows import KeyRow, UserRow
from transcoder.records.catalog import Catalog

#: What every key we make starts with, so one pasted somewhere is recognised as ours.
KEY_PREFIX = "tk_"
KEY_NAME = re.compile(r"\A[^\x00-\x1f\x7f]{1,64}\Z")


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None
    may_create_keys: bool = False

    @classmethod
    def of(cls, row: KeyRow) -> ApiKey:
        return cls(row.id, row.name, row.created_at, row.last_used_at, row.revoked_at,
                   bool(row.may_create_keys))  # fmt: skip


def key_hash(key: str) -> str:
    return hashlib.sha256(key.strip().encode()).hexdigest()


def env_key_id(key: str) -> str:
    """The id of a key from TRANSCODER_API_KEYS: the first 16 hex digits of its hash, as
    the catalog has recorded them since keys came in."""
    return key_hash(key)[:16]


class Keys:
    def __init__(self, catalog: Catalog, users: Users, env_keys: frozenset[str] = frozenset()) -> None:
        self.catalog = catalog
        self.users = users
        self.env_keys = env_keys

    def create(self, user: User, name: str, may_create_keys: bool = False) -> tuple[ApiKey, str]:
        """A new key of ``user``'s, and the key itself: shown now, never again."""
        name = name.strip()
        if not KEY_NAME.match(name):
            raise InvalidInput("A key's name is 1 to 64 printable characters.", code="bad_name")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        row = KeyRow(id=secrets.token_hex(8), user_id=user.id, name=name, key_hash=key_hash(secret),
                     created_at=time.time(), may_create_keys=may_create_keys)  # fmt: skip
        with self.catalog.begin() as session:
            session.add(row)
        return ApiKey.of(row), secret

    def of_user(self, user: User) -> list[ApiKey]:
        with self.catalog.begin() as session:
            rows = session.scalars(
                select(KeyRow).where(KeyRow.user_id == user.id).order_by(KeyRow.created_at)
            )
            return [ApiKey.of(r) for r in rows]

    def revoke(self, key_id: str, user: User | None) -> ApiKey:
        """Revoke one of ``user``'s keys (an admin's, or None for the operator: anyone's).
        Others' keys are not found."""
        with self.catalog.begin() as session:
            row = session.get(KeyRow, key_id) if re.fullmatch(r"[0-9a-f]{16}", key_id) else None
            if row is None or (user is not None and row.user_id != user.id and not user.admin):
                raise KeyNotFound(f"No key with id {key_id[:32]!r}.")
            row.revoked_at = row.revoked_at or time.time()
            return ApiKey.of(row)

    def may_create_keys(self, key_id: str) -> bool:
        """Whether requests made with this key may create keys (env keys: never)."""
        with self.catalog.begin() as session:
            row = session.get(KeyRow, key_id)
            return row is not None and bool(row.may_create_keys)

    def verdict(self, key_id: str) -> str | None:
        """For a stream opened with this key: None while the key still lets its user in,
        else why not (``transcoder.accounts.revocations``)."""
        if any(env_key_id(known) == key_id for known in self.env_keys):
            service = self.users.by_name(SERVICE)
            return revocations.USER_DISABLED if service is None or service.disabled else None
        with self.catalog.begin() as session:
            found = session.execute(
                select(KeyRow.revoked_at, UserRow.disabled)
                .join(UserRow, UserRow.id == KeyRow.user_id)
                .where(KeyRow.id == key_id)
            ).first()  # fmt: skip
        if found is None or found[0] is not None:
            return revocations.KEY_REVOKED
        return revocations.USER_DISABLED if found[1] else None

    def user_for(self, key: str) -> tuple[User, str] | None:
        """The user a key lets in, and the key's id; None for a key that is unknown,
        revoked, or whose user is disabled."""
        key = key.strip()
        # Compared as bytes: compare_digest refuses a str that is not ASCII (a header can hold any).
        sent = key.encode("utf-8", "surrogatepass")
        if any(hmac.compare_digest(sent, known.encode("utf-8", "surrogatepass")) for known in self.env_keys):
            service = self.users.builtin(SERVICE, "uploader")
            return None if service.disabled else (service, env_key_id(key))
        if not key.startswith(KEY_PREFIX) or len(key) > 200 or not key.isascii():
            return None
        now = time.time()
        with self.catalog.begin() as session:
            found = session.execute(
                select(KeyRow, UserRow).join(UserRow, UserRow.id == KeyRow.user_id)
                .where(KeyRow.key_hash == key_hash(key))
            ).first()  # fmt: skip
            if found is None:
                return None
            row, user = found
            if row.revoked_at is not None or user.disabled:
                return None
            if row.last_used_at is None or now - row.last_used_at > TOUCH_S:
                row.last_used_at = user.last_seen_at = now
            return User.of(user), row.id
