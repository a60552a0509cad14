"""Content-addressed sources: one row per (bytes, encoding settings, reuse scope) whose
outputs videos may share, and the references to it.

A row's ``home`` is the video whose folder holds the outputs (it may be deleted by now:
the folder stays while anyone refers to it). A row is ``encoding`` while its home runs (a
repeat then follows the home) and ``ready`` once its outputs can be shared. The
references are the video rows whose ``content_key`` names the row: counted, never
stored as a number, so they cannot drift.

Every change of a row or of a reference happens in one catalog transaction with the
row locked (PostgreSQL: ``SELECT … FOR UPDATE``; SQLite: ``BEGIN IMMEDIATE`` writes one
at a time): an upload attaching to the outputs and the delete of their last reference
are ordered, and the loser sees the winner's outcome. The delete removes the row first;
its caller removes the files only once the transaction has committed, so no video
recorded afterwards can point at them (a new upload of the same bytes then finds no row
and encodes afresh into a folder of its own).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import JSON, Float, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from transcoder.records.catalog import Base, Catalog, VideoRow
from transcoder.records.document import Video

ENCODING = "encoding"
READY = "ready"


class SourceRow(Base):
    __tablename__ = "sources"

    #: sha256 of (the bytes' sha256, the encoding settings' version, the reuse scope).
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    home: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    #: The home's document: as planned while it encodes (what a follower copies), as ended
    #: once ready (what a repeat copies, even after the home itself was deleted).
    document: Mapped[Video] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)


@dataclass(frozen=True)
class Shared:
    """A source's row as one transaction saw it."""

    state: str
    home: str
    document: Video


@dataclass(frozen=True)
class Admission:
    """How a new video is recorded: its document, whether it refers to the source's
    outputs, and (when no row exists) the document that makes it the source's home."""

    video: Video
    refers: bool
    key_id: str | None = None
    home_document: Video | None = None


class NotYet(Exception):
    """The row is not what the caller prepared for (it must keep its bytes or probe first)."""


class Sources:
    """The rows of content-addressed sources, changed only with the row locked."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def peek(self, key: str) -> Shared | None:
        """The row as it is now, unlocked: a guess of what ``admit`` will find."""
        with self.catalog.begin() as session:
            row = session.get(SourceRow, key)
            return None if row is None else _shared(row)

    def admit(self, key: str, sha256: str, decide: Callable[[Shared | None], Admission]) -> Admission:
        """Record a new video under ``key`` as ``decide`` says, given the locked row (None:
        there is none). Raises ``NotYet`` (from ``decide``) or ``IntegrityError`` (another
        upload made the row meanwhile): the caller tries again."""
        with self.catalog.begin() as session:
            row = _locked(session, key)
            admission = decide(None if row is None else _shared(row))
            if row is None and admission.home_document is not None:
                session.add(
                    SourceRow(
                        key=key,
                        sha256=sha256,
                        home=admission.video["id"],
                        state=ENCODING,
                        document=admission.home_document,
                        created_at=time.time(),
                    )
                )
                session.flush()
            refers = admission.refers and (row is not None or admission.home_document is not None)
            self.catalog.write(session, admission.video, admission.key_id, key if refers else None)
        return admission

    def mark_ready(self, key: str, home: str, document: Video) -> None:
        """``home`` ended ready: its outputs may be shared. With no row (its claim was given
        up, or it encoded on its own after its origin went) it becomes the row's home; a row
        of another home is left alone (this video keeps its files to itself)."""
        with self.catalog.begin() as session:
            row = _locked(session, key)
            video = session.get(VideoRow, home)
            if video is None:
                return  # deleted meanwhile: its delete dealt with the row
            if row is None:
                session.add(
                    SourceRow(
                        key=key,
                        sha256=document.get("source_sha256", ""),
                        home=home,
                        state=READY,
                        document=document,
                        created_at=time.time(),
                    )
                )
                video.content_key = key
            elif row.home == home and row.state == ENCODING:
                row.state, row.document = READY, document

    def give_up(self, key: str, home: str) -> bool:
        """``home`` ended without outputs to share (failed, canceled) or is gone: its claim
        goes, so a repeat encodes afresh. True when there was a claim to give up."""
        with self.catalog.begin() as session:
            row = _locked(session, key)
            if row is None or row.home != home or row.state != ENCODING:
                return False
            session.delete(row)
            video = session.get(VideoRow, home)
            if video is not None and video.content_key == key:
                video.content_key = None
            return True

    def join(self, key: str, video_id: str, document: Video) -> Shared | None:
        """A follower whose origin ended: it refers to the outputs if they are ready, or
        becomes the home of a fresh claim if there is none. None: it is gone."""
        with self.catalog.begin() as session:
            row = _locked(session, key)
            video = session.get(VideoRow, video_id)
            if video is None:
                return None
            if row is None:
                row = SourceRow(
                    key=key,
                    sha256=document.get("source_sha256", ""),
                    home=video_id,
                    state=ENCODING,
                    document=document,
                    created_at=time.time(),
                )
                session.add(row)
                video.content_key = key
            elif row.state == READY:
                video.content_key = key
            return _shared(row)

    def forget(self, video_id: str, delete_row: bool = True) -> list[str]:
        """Drop a video's reference, and its record too (``delete_row``); returns the
        videos whose folders may now be removed, once this has committed: its own unless
        it is the home of outputs still referred to, and the home's when it was the last."""
        for _ in range(3):
            try:
                return self._forget(video_id, delete_row)
            except IntegrityError:
                continue
        return self._forget(video_id, delete_row)

    def _forget(self, video_id: str, delete_row: bool) -> list[str]:
        with self.catalog.begin() as session:
            video = session.get(VideoRow, video_id)
            key = None if video is None else video.content_key
            row = None if key is None else _locked(session, key)
            if video is not None:
                session.refresh(video)  # now that the row is locked, its reference is settled
                if video.content_key != key:
                    raise IntegrityError("a reference moved while it was read", None, Exception())
                if delete_row:
                    session.delete(video)
                else:
                    video.content_key = None
                session.flush()
            if row is None:
                return [video_id]
            left = session.scalar(select(func.count()).where(VideoRow.content_key == key))
            if left:
                return [] if row.home == video_id else [video_id]
            session.delete(row)
            return sorted({video_id, row.home})


def _locked(session: Session, key: str) -> SourceRow | None:
    """The row, locked until the transaction ends: every attach and detach goes through here."""
    return session.get(SourceRow, key, with_for_update=True)


def _shared(row: SourceRow) -> Shared:
    return Shared(row.state, row.home, row.document)
