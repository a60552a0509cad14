"""What the tus protocol does with an upload: create it, tell where it stands, append a
PATCH's bytes, make its last byte a video, terminate it, and sweep away expired ones.

The state is the catalog's row (``records.upload_rows``): a HEAD answers from it, never
from what storage happens to hold. Three safety nets keep one upload's bytes whole:

- **One writer.** A PATCH writes only while it holds the upload's Redis lock
  (``locks``); a second PATCH meanwhile is refused (423).
- **Offsets recorded only forward from where they were.** The new offset is written only
  if the row still holds the offset the PATCH began at, so even a writer whose lock
  lapsed cannot record its bytes over another's (409).
- **Nothing past ``Upload-Length``.** A body that would pass it keeps nothing (413).

Quotas hold from creation: ``Upload-Length`` is reserved against its owner's quotas
(``accounts.reservations``) under the upload's own id, for as long as the upload may live
(each PATCH claims it again), so parallel creations cannot together pass a quota, and an
upload that creation accepted is not refused at its last byte by uploads that came after.
The last byte makes a video through ``work.actions.accept_staged``, with the refusals of
a multipart upload; a refused one leaves nothing, not even the upload.

The sha256 of the source is computed as the bytes stream in (``streaming``); a PATCH that
reaches a process whose hash is not at the upload's offset has lost it, and the last
byte's ``Staging.finish`` reads the stored bytes once more.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, select, update

from transcoder.accounts import reservations
from transcoder.accounts.users import User
from transcoder.errors import (
    ChecksumMismatch,
    InvalidInput,
    OffsetMismatch,
    PastUploadLength,
    QuotaExceeded,
    Unauthorized,
    UploadGone,
    UploadNotFound,
)
from transcoder.ops import metrics
from transcoder.records import states
from transcoder.records.upload_rows import ResumableUploadRow
from transcoder.services import Services
from transcoder.uploads import locks, under_way
from transcoder.uploads.checkpoints import Checkpoints
from transcoder.uploads.staging import Staging
from transcoder.uploads.streaming import HASHES, Feed
from transcoder.uploads.tus import Checksum
from transcoder.work import actions


@dataclass(frozen=True)
class Upload:
    id: str
    owner_id: str
    key_id: str | None
    filename: str
    length: int
    offset: int
    created_at: float
    expires_at: float
    staging: dict[str, Any]
    video_id: str | None

    @classmethod
    def of(cls, row: ResumableUploadRow) -> Upload:
        return cls(row.id, row.owner_id, row.key_id, row.filename, row.length, row.offset,
                   row.created_at, row.expires_at, dict(row.staging or {}), row.video_id)  # fmt: skip


class Resumable:
    """Resumable uploads of one process: its services and where the bytes gather."""

    def __init__(self, services: Services, staging: Staging) -> None:
        self.services, self.staging = services, staging
        self.settings = services.settings

    # -- creation ---------------------------------------------------------------------

    def create(self, owner: User, key_id: str | None, length: int, filename: str) -> Upload:
        """A new upload of ``length`` bytes, its bytes reserved against ``owner``'s quotas
        now (413 ``quota_exceeded`` if they do not fit, 413 ``too_large`` past the
        server's largest upload; 429 ``too_many_uploads`` past the user's unfinished uploads)."""
        limit = self.settings.max_upload_bytes
        if length > limit:
            raise PastUploadLength(
                f"This upload ({length} bytes) is larger than this server accepts ({limit} bytes)."
            )
        if length == 0:
            raise InvalidInput("An empty file is not a video: Upload-Length is 0.", code="empty_file")
        now = time.time()
        upload = Upload(uuid.uuid4().hex, owner.id, key_id, actions.clean_filename(filename) or "upload",
                        length, 0, now, now + self.settings.upload_expiry, {}, None)  # fmt: skip
        cap = self.settings.uploads_under_way
        with under_way.place(self.services.redis, self.services.catalog, owner.id, cap):
            held = self.reservation(owner, upload)
            try:
                held.resize(length)
            except QuotaExceeded as refused:
                metrics.record_refusal(self.services.redis, refused.code)
                raise
            try:
                upload = replace(upload, staging=self.staging.begin(upload.id))
                with self.services.catalog.begin() as session:
                    session.add(ResumableUploadRow(
                        id=upload.id, owner_id=owner.id, key_id=key_id, filename=upload.filename,
                        length=length, offset=0, created_at=now, expires_at=upload.expires_at,
                        staging=upload.staging, video_id=None))  # fmt: skip
            except BaseException:
                held.release()
                self.staging.discard(upload.id, upload.staging)
                raise
        return upload

    def reservation(self, owner: User, upload: Upload) -> reservations.Reservation:
        """The upload's reservation (its id is the upload's), lasting until it expires."""
        ttl = int(max(upload.expires_at - time.time(), 0)) + reservations.TTL_S
        return reservations.Reservation(self.services.redis, self.services.quotas, owner, upload.id, ttl)

    # -- reading ----------------------------------------------------------------------

    def get(self, owner: User, upload_id: str, live: bool = True) -> Upload:
        """The owner's upload: 404 for an unknown id or another user's; 410 once an unfinished
        one expired (``live``: only for a request that would go on with it)."""
        if not (len(upload_id) == 32 and upload_id.isalnum()):
            raise UploadNotFound("No upload of yours has this id.")
        with self.services.catalog.begin() as session:
            row = session.get(ResumableUploadRow, upload_id)
            upload = Upload.of(row) if row is not None else None
        if upload is None or upload.owner_id != owner.id:
            raise UploadNotFound("No upload of yours has this id.")
        if live and upload.video_id is None and time.time() >= upload.expires_at:
            raise UploadGone("This upload expired before its last byte came; start it again.")
        return upload

    # -- appending --------------------------------------------------------------------

    def append(
        self,
        owner: User,
        upload_id: str,
        offset: int,
        chunks: Iterable[bytes],
        checksum: Checksum | None = None,
        revoked: Callable[[], str | None] | None = None,
        sized: bool = False,
    ) -> tuple[Upload, states.Video | None]:
        """Write a PATCH's body at ``offset`` (it must be where the upload stands: 409) and
        record how far it came. The last byte makes the video (returned); a repeated last
        PATCH, with nothing left to send, finds the upload as it was left.

        ``sized``: the body's length was stated and fits what is left (the web layer checked
        it before reading), so it cannot go past ``Upload-Length`` mid-body; only then, and
        only without ``Upload-Checksum`` (all or nothing: 460 keeps none of it), the bytes
        are recorded at checkpoints as they drain (``checkpoints``), so a process killed
        mid-body loses only what came since the last one."""
        self.get(owner, upload_id)
        with locks.hold(self.services.redis, upload_id, self.lock_ttl()) as lock:
            upload = self.get(owner, upload_id)  # as it stands now that it is ours
            if upload.video_id is not None and offset == upload.length:
                return upload, None
            if offset != upload.offset:
                raise OffsetMismatch(
                    f"This upload stands at byte {upload.offset}, not {offset}: ask for its offset "
                    "(HEAD) and go on from there."
                )
            self.reservation(owner, upload).resize(upload.length)  # claimed again: it lasts
            digest = HASHES.at(upload.id, upload.offset)
            check = hashlib.new(checksum.algorithm) if checksum is not None else None
            feed = Feed(chunks, upload.length - upload.offset, digest, check, lock)
            marks = Checkpoints(
                upload.id, upload.offset, upload.staging,
                lambda at, reached, state: self.record_offset(replace(upload, offset=at), reached, state),
                feed, lock, revoked,
            )  # fmt: skip
            usable = sized and checksum is None
            try:
                reached, state = self.staging.append(
                    upload.id, upload.staging, upload.offset, feed, marks if usable else None
                )
            except (locks.LockLost, OffsetMismatch):
                raise  # another request may be writing now: touch nothing
            except BaseException:
                # Back to the last record: the bytes checkpointed before stay, none after.
                self.staging.append(upload.id, marks.state, marks.offset, ())
                raise
            refusal = self.refusal(upload, feed, checksum, revoked)
            upload = replace(upload, offset=marks.offset, staging=marks.state)  # as last recorded
            if refusal is not None:
                self.staging.append(upload.id, state, upload.offset, ())  # this PATCH keeps no more
                raise refusal
            lock.refresh(force=True)  # still ours: no other writer since
            self.record_offset(upload, reached, state)
            HASHES.keep(upload.id, reached, digest)
            upload = replace(upload, offset=reached, staging=state)
            if reached < upload.length:
                return upload, None
            video = self.finish(owner, upload, digest.hexdigest() if digest is not None else None, revoked)
            return replace(upload, video_id=video["id"]), video

    def refusal(
        self,
        upload: Upload,
        feed: Feed,
        checksum: Checksum | None,
        revoked: Callable[[], str | None] | None,
    ) -> Exception | None:
        """Why this PATCH's bytes must not be kept, if they must not."""
        if feed.past:
            return PastUploadLength(
                f"This body goes past the upload's length ({upload.length} bytes; "
                f"{upload.length - upload.offset} were left from byte {upload.offset}); "
                "nothing of it was kept."
            )
        if checksum is not None and feed.check is not None and feed.check.digest() != checksum.digest:
            return ChecksumMismatch(
                f"The body does not match its Upload-Checksum ({checksum.algorithm}); nothing of it "
                "was kept: send it again."
            )
        if revoked is not None and (why := revoked()) is not None:
            return Unauthorized(
                f"Your credential was revoked while this body arrived ({why}); nothing was kept."
            )
        return None

    def record_offset(self, upload: Upload, reached: int, state: dict[str, Any]) -> None:
        """Record the new offset only if the upload still stands where this PATCH began."""
        with self.services.catalog.begin() as session:
            done = session.execute(
                update(ResumableUploadRow)
                .where(ResumableUploadRow.id == upload.id, ResumableUploadRow.offset == upload.offset)
                .values(offset=reached, staging=state)
            )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise OffsetMismatch(
                "Another request moved this upload meanwhile; ask for its offset (HEAD) and go on from there."
            )

    def lock_ttl(self) -> float:
        """Short, so a killed holder's lock lapses soon; a live one's heartbeat renews it."""
        return locks.TTL_S

    # -- the last byte ----------------------------------------------------------------

    def finish(
        self, owner: User, upload: Upload, sha256: str | None, revoked: Callable[[], str | None] | None
    ) -> states.Video:
        """The complete upload becomes a video (``accept_staged``), or is refused as a multipart
        upload would be and leaves nothing: no bytes, no upload, no reservation."""
        held = self.reservation(owner, upload)
        try:
            with held, self.staging.finish(upload.id, upload.staging, upload.length, sha256) as staged:
                try:
                    video = actions.accept_staged(self.services, staged, upload.filename, owner,
                                                  upload.key_id, held, revoked)  # fmt: skip
                finally:
                    staged.discard()
        except BaseException:
            self.remove(upload)
            raise
        with self.services.catalog.begin() as session:
            session.execute(
                update(ResumableUploadRow)
                .where(ResumableUploadRow.id == upload.id)
                .values(video_id=video["id"])
            )
        HASHES.drop(upload.id)
        return video

    # -- ending -----------------------------------------------------------------------

    def terminate(self, owner: User, upload_id: str) -> None:
        """DELETE: its bytes, its record and its reservation go (a video it made stays)."""
        upload = self.get(owner, upload_id, live=False)
        with locks.hold(self.services.redis, upload.id, self.lock_ttl()):
            self.remove(upload)

    def remove(self, upload: Upload) -> None:
        """Drop everything the upload holds; harmless twice."""
        if upload.video_id is None:
            self.staging.discard(upload.id, upload.staging)
        reservations.forget(self.services.redis, upload.owner_id, upload.id)
        HASHES.drop(upload.id)
        with self.services.catalog.begin() as session:
            session.execute(delete(ResumableUploadRow).where(ResumableUploadRow.id == upload.id))

    def sweep(self, now: float | None = None) -> list[str]:
        """Remove the uploads past their expiry (bytes, record, reservation); one being
        written right now is left for the next sweep. Returns the ids removed."""
        now = time.time() if now is None else now
        with self.services.catalog.begin() as session:
            rows = session.scalars(select(ResumableUploadRow).where(ResumableUploadRow.expires_at <= now))
            expired = [Upload.of(row) for row in rows]
        removed = []
        for upload in expired:
            lock = locks.UploadLock(self.services.redis, upload.id, self.lock_ttl())
            if not lock.acquire():
                continue
            try:
                self.remove(upload)
                removed.append(upload.id)
            finally:
                lock.release()
        return removed
