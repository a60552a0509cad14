"""The catalog's table of resumable uploads (tus) under way: who sent it, how long it will
be, how far it has come, where its bytes gather, when it expires, and the video its last
byte made. The protocol over it lives in ``transcoder.uploads.resumable`` (schema:
migration 0005).

The offset is the catalog's, not what storage holds: a HEAD answers from this row (after
an S3 multipart upload completes, its parts are no longer listed), and a PATCH records
its new offset only if the row still stands where it began, so two writers can never
both record theirs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from transcoder.records.catalog import Base


class ResumableUploadRow(Base):
    __tablename__ = "resumable_uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: The user who created it; anyone else is told it does not exist.
    owner_id: Mapped[str] = mapped_column(String(32))
    #: The API key it was created with, if any (recorded with its video).
    key_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    #: What its ``Staging`` keeps with it (JSON; empty for local staging).
    staging: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The video its last byte made (None until then).
    video_id: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (
        Index("ix_resumable_uploads_expires_at", "expires_at"),
        Index("ix_resumable_uploads_owner_id", "owner_id"),
    )
