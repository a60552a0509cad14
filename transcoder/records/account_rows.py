"""The catalog's tables of people: users, their sign-in sessions and API keys, and the
ledger of what each uploaded (what daily quotas count). The rules over them live in
``transcoder.accounts``; these are only the rows (schema: migrations 0003 and 0004)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from transcoder.records.catalog import Base


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: "admin" (sees and manages everything) or "uploader" (only their own videos).
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Float)
    last_seen_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Per-user overrides of the quotas in settings, in bytes (None: the setting's).
    storage_quota: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    daily_quota: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class SessionRow(Base):
    """One signed-in browser: the cookie carries the session's token, this row its hash."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[float] = mapped_column(Float)
    last_seen_at: Mapped[float] = mapped_column(Float)


class KeyRow(Base):
    __tablename__ = "api_keys"

    #: Shown to its owner and in the catalog's ``videos.key_id`` (never the key itself).
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the key: keys are long random strings, so a fast hash is enough.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: Whether requests made with this key may create keys (migration 0004): a key
    #: without it, stolen, cannot breed keys that outlive its revocation.
    may_create_keys: Mapped[bool] = mapped_column(Boolean, default=False)


class UploadRow(Base):
    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    at: Mapped[float] = mapped_column(Float)
    bytes: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_uploads_user_at", "user_id", "at"),)
