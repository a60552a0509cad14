"""The JSON API of videos: upload, look up, list, cancel, retry, delete, and a video's parts
(their files are served by ``files``)."""

from __future__ import annotations

import kombu.exceptions
import redis
from flask import Blueprint, jsonify, request

from tasks import workflow
from transcoder.errors import Conflict, InvalidInput, Unavailable
from transcoder.work import actions

from ..auth import revocation
from ..auth.access import owned_video
from ..auth.identity import current_user, key_id
from ..middleware import bodies
from ..services import celery, services
from .library import library_page
from .shapes import links, parts_json, video_json, video_urls

bp = Blueprint("api", __name__, url_prefix="/api")


UNREACHABLE = (redis.RedisError, kombu.exceptions.OperationalError, OSError)


@bp.post("/videos")
def upload():  # type: ignore[no-untyped-def]
    """Upload. The quotas are checked, and the bytes reserved against them, from the body's
    ``Content-Length`` before the body is read: an upload past a quota is refused (413)
    unread, and parallel uploads cannot together pass one (``reservations``). A body that
    states no length grows its reservation as it arrives, refused once past a quota."""
    svc = services()
    try:
        with actions.reserve_upload(svc, current_user(), request.content_length or 0) as held:
            bodies.count_upload(held.resize)
            upload = request.files.get("file")
            if upload is None:
                raise InvalidInput("Send the video in a multipart form field named 'file'.", code="no_file")
            video = actions.accept_upload(
                svc,
                upload.stream,
                upload.filename or "",
                current_user(),
                key_id(),
                reservation=held,
                revoked=revocation.verdict,
            )
    except UNREACHABLE as exc:
        raise Unavailable("The service cannot store videos right now; try again in a minute.") from exc
    try:
        workflow.submit(celery(), video)
    except UNREACHABLE as exc:
        # Nothing half-done: the work could not be queued, so the video is not kept.
        actions.discard_video(svc, video["id"])
        raise Unavailable("The service cannot queue work right now; try again in a minute.") from exc
    body = {"id": video["id"], "state": video["state"], "links": links(video["id"])}
    return jsonify(body), 201, {"Location": body["links"]["self"]}


@bp.get("/videos")
def list_videos():  # type: ignore[no-untyped-def]
    """Newest first: ``state`` filters, ``q`` searches file names, ``cursor`` is the last
    answer's ``next_cursor`` (null on the last page), ``limit`` is 1 to 200."""
    videos, next_cursor = library_page(request.args, current_user())
    url = video_urls()
    return jsonify({"videos": [video_json(v, url) for v in videos], "next_cursor": next_cursor})


@bp.get("/videos/<video_id>")
def get_video(video_id: str):  # type: ignore[no-untyped-def]
    return jsonify(video_json(owned_video(video_id)))


@bp.delete("/videos/<video_id>")
def delete(video_id: str):  # type: ignore[no-untyped-def]
    """Delete: a running video is canceled first; its files and its record go; later reads are 404."""
    owned_video(video_id)
    for follower in actions.delete_video(services(), video_id):
        workflow.submit(celery(), follower)  # it waited for this one: it encodes on its own
    return "", 204


@bp.post("/videos/<video_id>/cancel")
def cancel(video_id: str):  # type: ignore[no-untyped-def]
    """Cancel: running encodes stop within a second or two, queued ones are skipped, files removed;
    the record stays, ``canceled``."""
    owned_video(video_id)
    video, released = actions.cancel_video(services(), video_id)
    for follower in released:
        workflow.submit(celery(), follower)  # it waited for this one: it encodes on its own
    if video["state"] != "canceled":
        raise Conflict(f"This video has already ended ({video['state']}); there is nothing to cancel.")
    return jsonify(video_json(video))


@bp.post("/videos/<video_id>/retry")
def retry(video_id: str):  # type: ignore[no-untyped-def]
    """Run a failed video's failed parts again; the parts that succeeded are kept."""
    owned_video(video_id)
    video, parts = actions.retry_video(services(), video_id)
    if not parts:
        raise Conflict(f"Only a failed video can be retried; this one is {video['state']}.")
    workflow.send(celery(), video_id, parts)
    return jsonify(video_json(video)), 202


@bp.get("/videos/<video_id>/parts")
def parts(video_id: str):  # type: ignore[no-untyped-def]
    """How a video's work was cut, and where each part stands: for operators and for tests."""
    video = owned_video(video_id)
    return jsonify({"id": video_id, "parts": [parts_json(p) for p in video["parts"]]})
