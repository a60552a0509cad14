"""The tus 1.0.0 routes (core, creation, creation-with-upload, termination, expiration,
checksum) at ``/api/uploads/``: what each answers is in docs/api.md; what they do is
``transcoder.uploads.resumable``. ``GET /api/uploads/`` (ours, not tus's) lists the user's
unfinished uploads, so one whose creation answer was lost can be found again.

Every route needs a user (a key, or a session whose unsafe requests carry the CSRF
token: ``web.auth``), and every answer, errors included, says ``Tus-Resumable``. The last
byte's video is queued here (``tasks.workflow.submit``) as ``POST /api/videos`` queues
one, with its refusals and codes; the video's id comes back in ``X-Video-Id``.

A PATCH body is read in pieces straight into staging: a connection that drops mid-body
keeps the bytes that came (the client asks HEAD and goes on from there); one cut for
arriving too slowly (``web.middleware.upload_rate``) keeps them too, then answers 408.
A web process killed mid-body keeps what its last checkpoint recorded
(``transcoder.uploads.checkpoints``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import kombu.exceptions
import redis
from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from tasks import workflow
from transcoder.errors import (
    InvalidInput,
    OffsetMismatch,
    PastUploadLength,
    TranscoderError,
    Unavailable,
    UnsupportedMediaType,
    UploadTooSlow,
)
from transcoder.storage.layout import video_prefix
from transcoder.uploads import staging, tus, under_way
from transcoder.uploads.resumable import Resumable, Upload

from ..auth import revocation
from ..auth.identity import current_user, key_id
from ..middleware import bodies
from ..services import celery, services

bp = Blueprint("uploads", __name__, url_prefix="/api/uploads")

UNREACHABLE = (redis.RedisError, kombu.exceptions.OperationalError, OSError)
PIECE = 256 * 1024


def resumable() -> Resumable:
    """This process's uploads (its hashes of the bytes so far live as long as it does)."""
    found = current_app.extensions.get("resumable")
    if found is None:
        svc = services()
        found = current_app.extensions["resumable"] = Resumable(svc, staging.of(svc.settings, svc.storage))
    return found


@bp.before_request
def _speaks_tus() -> None:
    """Every tus request but OPTIONS names its version (412 otherwise); GET, our own JSON
    look at an upload, need not."""
    if request.method not in ("OPTIONS", "GET"):
        tus.check_version(request.headers.get("Tus-Resumable"))


@bp.after_app_request
def _tus_headers(response: Response) -> Response:
    """Every answer under /api/uploads/ says Tus-Resumable: also those made before a route
    of this blueprint matched (405 for a method it does not take, 404)."""
    if not request.path.startswith(bp.url_prefix or "/api/uploads"):
        return response
    response.headers["Tus-Resumable"] = tus.VERSION
    if response.status_code == 412:
        response.headers["Tus-Version"] = tus.VERSION
    return response


@bp.route("/", methods=["OPTIONS"])
def discover():  # type: ignore[no-untyped-def]
    """What this server does: versions, extensions, checksums, largest upload."""
    return "", 204, tus.discovery_headers(services().settings.max_upload_bytes)


@bp.get("/")
def listing():  # type: ignore[no-untyped-def]
    """The user's unfinished uploads, newest first: one whose creation answer was lost
    (and so its Location) can be found here, resumed or deleted."""
    try:
        rows = under_way.unfinished(services().catalog, current_user().id)
    except UNREACHABLE as exc:
        raise Unavailable("The service cannot list uploads right now; try again in a minute.") from exc
    found = [{**row, "url": url_for(".look", upload_id=row["id"], _external=True)} for row in rows]
    return jsonify({"uploads": found, "limit": under_way.LIST_LIMIT}), 200, {"Cache-Control": "no-store"}


@bp.post("/", provide_automatic_options=False)
def create():  # type: ignore[no-untyped-def]
    """A new upload of ``Upload-Length`` bytes, reserved against the user's quotas now;
    with a body (creation-with-upload), its first bytes too."""
    length = tus.parse_size(request.headers.get("Upload-Length"), "Upload-Length")
    if "Upload-Defer-Length" in request.headers:
        raise InvalidInput("Upload-Defer-Length is not supported: send Upload-Length.", code="bad_tus_header")
    metadata = tus.parse_metadata(request.headers.get("Upload-Metadata"))
    filename = tus.text_of(metadata, "filename") or tus.text_of(metadata, "name")
    has_body = (
        bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    )
    checksum = tus.parse_checksum(request.headers.get("Upload-Checksum"))
    if has_body:
        needs_offset_stream()
        bodies.tighten(length, past_length(length))
    try:
        upload = resumable().create(current_user(), key_id(), length, filename)
    except UNREACHABLE as exc:
        raise Unavailable("The service cannot take uploads right now; try again in a minute.") from exc
    headers = {
        "Location": url_for(".look", upload_id=upload.id, _external=True),
        "Upload-Expires": tus.http_date(upload.expires_at),
    }
    if has_body:
        try:
            upload, video_id = take_body(upload.id, 0, checksum)
        except BaseException:
            # A refused first body leaves nothing: the client never learns of this upload.
            with contextlib.suppress(TranscoderError, *UNREACHABLE):
                resumable().remove(upload)
            raise
        headers.update(progress_headers(upload, video_id))
    return "", 201, headers


@bp.get("/<upload_id>")
def look(upload_id: str):  # type: ignore[no-untyped-def]
    """HEAD: where the upload stands (answered from the catalog, never cached). GET: the
    same as JSON, with the video its last byte made."""
    upload = resumable().get(current_user(), upload_id, live=request.method == "HEAD")
    headers = {
        **progress_headers(upload, upload.video_id),
        "Upload-Length": str(upload.length),
        "Upload-Expires": tus.http_date(upload.expires_at),
        "Cache-Control": "no-store",
    }
    if request.method == "HEAD":
        return "", 200, headers
    body = {
        "id": upload.id,
        "offset": upload.offset,
        "length": upload.length,
        "expires_at": upload.expires_at,
        "video_id": upload.video_id,
    }
    return jsonify(body), 200, headers


@bp.patch("/<upload_id>")
def append(upload_id: str):  # type: ignore[no-untyped-def]
    """Append the body at ``Upload-Offset``; the last byte makes the video."""
    upload = resumable().get(current_user(), upload_id)  # first: another's upload is only 404
    needs_offset_stream()
    offset = tus.parse_size(request.headers.get("Upload-Offset"), "Upload-Offset")
    if offset != upload.offset:  # before the body's size: a wrong offset is 409, even when complete
        raise OffsetMismatch(
            f"This upload stands at byte {upload.offset}, not {offset}: ask for its offset (HEAD) "
            "and go on from there."
        )
    checksum = tus.parse_checksum(request.headers.get("Upload-Checksum"))
    left = upload.length - upload.offset
    bodies.tighten(left, past_length(left))
    upload, video_id = take_body(upload_id, offset, checksum)
    return "", 204, progress_headers(upload, video_id)


@bp.delete("/<upload_id>")
def terminate(upload_id: str):  # type: ignore[no-untyped-def]
    """Termination: the upload's bytes, record and reservation go."""
    resumable().terminate(current_user(), upload_id)
    return "", 204


def needs_offset_stream() -> None:
    if request.mimetype != tus.CONTENT_TYPE:
        raise UnsupportedMediaType(f"A tus body's Content-Type must be {tus.CONTENT_TYPE}.")


def past_length(left: int) -> Any:
    return lambda sent: PastUploadLength(
        f"This body ({sent} bytes) goes past what is left of the upload ({left} bytes); nothing of it "
        "was kept."
    )


def progress_headers(upload: Upload, video_id: str | None) -> dict[str, str]:
    headers = {"Upload-Offset": str(upload.offset)}
    if video_id is not None:
        headers["X-Video-Id"] = video_id
    else:  # the expiration extension: every answer on an upload that will expire says when
        headers["Upload-Expires"] = tus.http_date(upload.expires_at)
    return headers


def take_body(upload_id: str, offset: int, checksum: tus.Checksum | None) -> tuple[Upload, str | None]:
    """Stream this request's body into the upload; queue the video its last byte made (or
    keep nothing of it if that cannot be done: 503)."""
    body = Body(request.stream)
    try:
        # A stated length was checked against what is left before the body was read
        # (``bodies.tighten``): such a body cannot go past Upload-Length mid-way, so its bytes
        # may be recorded at checkpoints as they drain (a chunked one stays all or nothing).
        sized = request.content_length is not None
        upload, video = resumable().append(
            current_user(), upload_id, offset, body, checksum, revocation.verdict, sized
        )
    except UNREACHABLE as exc:
        raise Unavailable("The service cannot store uploads right now; try again in a minute.") from exc
    if video is not None:
        try:
            workflow.submit(celery(), video)
        except UNREACHABLE as exc:
            # Nothing half-done: the work could not be queued, so neither video nor upload is kept.
            svc = services()
            svc.storage.delete_prefix(video_prefix(video["id"]))
            with contextlib.suppress(*UNREACHABLE):
                svc.videos.delete(video["id"])
                resumable().remove(upload)
            raise Unavailable("The service cannot queue work right now; try again in a minute.") from exc
    if body.error is not None:
        raise body.error  # the bytes that came are kept; the answer says why the rest did not
    return upload, upload.video_id


class Body:
    """The request's body in pieces. A connection that drops simply ends it, so the bytes
    that came are kept; one cut for being too slow ends it too, remembered for the answer."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.error: TranscoderError | None = None

    def __iter__(self) -> Iterator[bytes]:
        while True:
            try:
                piece = self.stream.read(PIECE)
            except UploadTooSlow as slow:
                self.error = slow
                return
            except RequestEntityTooLarge:
                raise PastUploadLength(
                    "This body goes past what is left of the upload; nothing of it was kept."
                ) from None
            except (ClientDisconnected, OSError):  # gunicorn's NoMoreData is an OSError too
                return
            if not piece:
                return
            yield piece
