"""Password hashes: argon2id through argon2-cffi, with its default (RFC 9106 low-memory)
parameters. A hash made with older parameters is replaced at the next sign-in."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

#: A hash no password matches: checked against when the name is unknown, so a sign-in
#: takes as long whether or not the account exists.
DECOY = _hasher.hash(secrets.token_urlsafe(16))


#: Runs ``fn(*args)`` and returns its result: where the password work runs.
Runner = Callable[..., Any]


def here(fn: Callable[..., Any], *args: Any) -> Any:
    """Runs the password work in the caller's own thread (the CLI; the tests' own)."""
    return fn(*args)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_password() -> str:
    """A password for a new account that nobody chose: 16 random URL-safe characters."""
    return secrets.token_urlsafe(12)
