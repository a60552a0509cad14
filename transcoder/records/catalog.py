"""The catalog: every video's durable record in a database (SQLite by default, PostgreSQL
for several machines), written with SQLAlchemy 2 and migrated with Alembic.

Redis holds what is live (the queue, leases, progress); the catalog holds what must
outlast a Redis that loses everything: each video's last durable document, and its
renditions as rows to list and filter. A document is kept only if its ``seq`` is newer
than the stored one, so writers that race, or replay an old state, cannot move a
record backwards.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    func,
    select,
    tuple_,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from transcoder.errors import CatalogUnavailable, InvalidInput
from transcoder.records.document import Video

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class VideoRow(Base):
    __tablename__ = "videos"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    #: The file name case-folded: what a search matches, read from the listing's index.
    name_key: Mapped[str] = mapped_column(String(255), default="", server_default="")
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    seq: Mapped[int] = mapped_column(Integer)
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    #: The id of the API key it was uploaded with, if it was.
    key_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The user it belongs to (None: recorded before accounts; only admins see it).
    owner_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: Bytes it keeps in storage: the source, then with its outputs once it has ended.
    stored_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: The content-addressed source whose outputs it counts as a reference to
    #: (``records/sources``); written only with that source's row locked.
    content_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The video's document as of ``seq`` (the column keeps its first name, ``snapshot``).
    document: Mapped[Video] = mapped_column("snapshot", JSON)
    renditions: Mapped[list[RenditionRow]] = relationship(
        back_populates="video", cascade="all, delete-orphan", order_by="RenditionRow.height"
    )

    __table_args__ = (
        Index("ix_videos_created", "created_at", "id"),
        Index("ix_videos_state_created", "state", "created_at", "id"),
        Index("ix_videos_listing", "created_at", "id", "state", "name_key"),
        Index("ix_videos_owner_created", "owner_id", "created_at", "id"),
        Index("ix_videos_content_key", "content_key"),
    )


class RenditionRow(Base):
    __tablename__ = "renditions"

    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    video: Mapped[VideoRow] = relationship(back_populates="renditions")


class Catalog:
    """Durable records of videos, behind a small interface."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """A database transaction (for the catalog and the accounts beside it), with an
        unreachable database told as ``CatalogUnavailable``."""
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        except DBAPIError as exc:
            if not exc.connection_invalidated and not _unreachable(exc):
                raise
            raise CatalogUnavailable(
                "The database cannot be reached right now; try again in a minute."
            ) from exc

    def record(self, video: Video, key_id: str | None = None) -> bool:
        """Keep this snapshot unless the stored one is as new; True when it was kept.

        The row is locked while it is compared (PostgreSQL: FOR UPDATE; SQLite writes one
        at a time), so two writers that race cannot leave the older snapshot last. Two
        first records of one video: the loser finds the winner's row and compares.
        """
        try:
            return self._record(video, key_id)
        except IntegrityError:
            return self._record(video, key_id)

    def _record(self, video: Video, key_id: str | None) -> bool:
        with self.begin() as session:
            return self.write(session, video, key_id)

    def write(
        self, session: Session, video: Video, key_id: str | None = None, content_key: str | None = None
    ) -> bool:
        """``record`` inside a transaction of the caller's (``records/sources`` records a new
        video in the transaction that counts its reference); ``content_key`` is written only
        when the row is made."""
        row = session.get(VideoRow, video["id"], with_for_update=True)
        if row is not None and row.seq >= video["seq"]:
            return False
        if row is None:
            row = VideoRow(
                id=video["id"],
                created_at=video["created_at"],
                key_id=key_id,
                owner_id=video.get("owner"),
                content_key=content_key,
            )
            session.add(row)
        row.filename = video.get("filename") or ""
        row.name_key = row.filename.casefold()
        row.state = video["state"]
        row.seq = video["seq"]
        # A document has no time of its last change: the column has always held its creation's.
        row.updated_at = video["created_at"]
        row.duration = video["source"]["duration"]
        row.stored_bytes = video.get("stored_bytes") or 0
        row.document = video
        wanted = {r["name"]: r for r in video["renditions"]}
        row.renditions = [r for r in row.renditions if r.name in wanted]
        have = {r.name: r for r in row.renditions}
        for name, r in wanted.items():
            item = have.get(name) or RenditionRow(name=name)
            item.width, item.height, item.state = r["width"], r["height"], r["state"]
            error = r.get("error")
            item.error = error.get("message") if error else None
            if name not in have:
                row.renditions.append(item)
        return True

    def get(self, video_id: str) -> Video | None:
        with self.begin() as session:
            row = session.get(VideoRow, video_id)
            return None if row is None else row.document

    def get_many(self, video_ids: list[str]) -> list[Video]:
        if not video_ids:
            return []
        with self.begin() as session:
            rows = session.scalars(select(VideoRow).where(VideoRow.id.in_(video_ids)))
            return [row.document for row in rows]

    def get_many_ordered(self, video_ids: list[str]) -> list[Video]:
        """``get_many`` in the order of ``video_ids``; unknown ids left out."""
        found = {v["id"]: v for v in self.get_many(video_ids)}
        return [found[i] for i in video_ids if i in found]

    def counts(self) -> dict[str, int]:
        """How many videos are in each state."""
        with self.begin() as session:
            rows = session.execute(select(VideoRow.state, func.count()).group_by(VideoRow.state))
            return {state: count for state, count in rows}

    def delete(self, video_id: str) -> bool:
        with self.begin() as session:
            row = session.get(VideoRow, video_id)
            if row is None:
                return False
            session.delete(row)
            return True

    def has_unfinished(self) -> bool:
        """Whether any video is still queued or processing (one row read, at most)."""
        with self.begin() as session:
            found = session.scalars(
                select(VideoRow.id).where(VideoRow.state.in_(("queued", "processing"))).limit(1)
            ).first()
            return found is not None

    def unfinished(self) -> list[Video]:
        """Snapshots of videos still queued or processing (what recovery looks at)."""
        with self.begin() as session:
            rows = session.scalars(select(VideoRow).where(VideoRow.state.in_(("queued", "processing"))))
            return [row.document for row in rows]

    def page_ids(
        self,
        *,
        state: str | None = None,
        query: str = "",
        cursor: str | None = None,
        limit: int = 50,
        owner: str | None = None,
    ) -> tuple[list[str], str | None]:
        """The ids on one page (reading only the index when there is no search) and the next
        cursor; ``owner`` keeps one user's videos."""
        statement = select(VideoRow.id, VideoRow.created_at).order_by(
            VideoRow.created_at.desc(), VideoRow.id.desc()
        )
        if owner is not None:
            statement = statement.where(VideoRow.owner_id == owner)
        if state:
            statement = statement.where(VideoRow.state == state)
        if query:
            escaped = query.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
            statement = statement.where(VideoRow.name_key.like(pattern, escape="\\"))
        if cursor:
            created_at, video_id = decode_cursor(cursor)
            statement = statement.where(tuple_(VideoRow.created_at, VideoRow.id) < (created_at, video_id))
        with self.begin() as session:
            rows = list(session.execute(statement.limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
        return [row.id for row in rows], nxt

    def stored_bytes(self, owner: str) -> int:
        """What one user's videos keep in storage."""
        with self.begin() as session:
            total = session.scalar(select(func.sum(VideoRow.stored_bytes)).where(VideoRow.owner_id == owner))
            return int(total or 0)


def _unreachable(exc: DBAPIError) -> bool:
    """A connection that failed or broke (server down, restarting), not a bad statement."""
    from sqlalchemy.exc import OperationalError

    return isinstance(exc, OperationalError) and "locked" not in str(exc.orig)


def encode_cursor(created_at: float, video_id: str) -> str:
    raw = json.dumps([created_at, video_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """The position a cursor names; a cursor we did not make is refused."""
    try:
        created_at, video_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(video_id, str) or not math.isfinite(created_at := float(created_at)):
            raise ValueError(video_id)
        return created_at, video_id
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise InvalidInput(
            "This cursor was not made by this server; start from the first page.", code="bad_cursor"
        ) from exc
