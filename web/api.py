"""The JSON API: upload, look up, list, download."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from tasks import workflow
from transcoder import transcode
from transcoder.errors import InvalidInput

from .views import checked_id, links, services, video_json

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.post("/videos")
def upload():  # type: ignore[no-untyped-def]
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("Send the video in a multipart form field named 'file'.", code="no_file")
    video = transcode.accept_upload(services(), upload.stream, upload.filename or "")
    workflow.submit(current_app.extensions["celery"], video)
    body = {"id": video["id"], "state": video["state"], "links": links(video["id"])}
    return jsonify(body), 201, {"Location": body["links"]["self"]}


@bp.get("/videos")
def list_videos():  # type: ignore[no-untyped-def]
    limit = min(max(request.args.get("limit", 50, type=int), 1), 200)
    return jsonify({"videos": [video_json(v) for v in services().videos.recent(limit)]})


@bp.get("/videos/<video_id>")
def get_video(video_id: str):  # type: ignore[no-untyped-def]
    return jsonify(video_json(services().videos.get(checked_id(video_id))))
