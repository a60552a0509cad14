"""The JSON API: upload, look up, list, download."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, jsonify, request, send_file

from tasks import workflow
from transcoder import jobs, storage, transcode
from transcoder.errors import InvalidInput

from .views import links, services, video_json

bp = Blueprint("api", __name__, url_prefix="/api")

VIDEO_ID = re.compile(r"^[0-9a-f]{32}$")


def checked_id(video_id: str) -> str:
    """Ids are ours (uuid4 hex); anything else never reaches Redis or storage."""
    if not VIDEO_ID.match(video_id):
        abort(404)
    return video_id


@bp.post("/videos")
def upload():  # type: ignore[no-untyped-def]
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("Send the video in a multipart form field named 'file'.", code="no_file")
    video = transcode.accept_upload(services(), upload.stream, upload.filename or "")
    workflow.submit(current_app.extensions["celery"], video["id"], [r["name"] for r in video["renditions"]])
    body = {"id": video["id"], "state": video["state"], "links": links(video["id"])}
    return jsonify(body), 201, {"Location": body["links"]["self"]}


@bp.get("/videos")
def list_videos():  # type: ignore[no-untyped-def]
    limit = min(max(request.args.get("limit", 50, type=int), 1), 200)
    return jsonify({"videos": [video_json(v) for v in services().videos.recent(limit)]})


@bp.get("/videos/<video_id>")
def get_video(video_id: str):  # type: ignore[no-untyped-def]
    return jsonify(video_json(services().videos.get(checked_id(video_id))))


@bp.get("/videos/<video_id>/renditions/<name>.mp4")
def rendition_file(video_id: str, name: str):  # type: ignore[no-untyped-def]
    video = services().videos.get(checked_id(video_id))
    entry = next((e for e in video["renditions"] if e["name"] == name), None)
    if entry is None or entry["state"] != jobs.RungState.READY.value:
        abort(404)
    path = services().storage.local_input(storage.rendition_key(video_id, name))
    return send_file(path, mimetype="video/mp4", conditional=True, max_age=3600)
