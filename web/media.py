"""Serving what a video became: MP4 downloads, HLS playlists and segments, poster, storyboard.

Every path is built from a checked video id and names we chose; nothing a client
sends becomes part of a file path.
"""

from __future__ import annotations

from pathlib import PurePath
from urllib.parse import quote

from flask import Blueprint, Response, abort, request, send_file

from transcoder import hls, jobs, storage

from .views import checked_id, services

bp = Blueprint("media", __name__, url_prefix="/api/videos/<video_id>")

PREVIEW_FILES = {"poster.jpg": "image/jpeg", "storyboard.jpg": "image/jpeg", "storyboard.vtt": "text/vtt"}
HLS_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".mp4": "video/mp4", ".m4s": "video/iso.segment"}


def _ready_rung(video: jobs.Video, name: str) -> dict:
    entry = next((e for e in video["renditions"] if e["name"] == name), None)
    if entry is None or entry["state"] != jobs.RungState.READY.value:
        abort(404)
    return entry


@bp.get("/renditions/<name>.mp4")
def rendition_file(video_id: str, name: str):  # type: ignore[no-untyped-def]
    video = services().videos.get(checked_id(video_id))
    _ready_rung(video, name)
    path = services().storage.local_input(storage.rendition_key(video_id, name))
    response = send_file(path, mimetype="video/mp4", conditional=True, max_age=3600)
    if request.args.get("download") == "1":
        stem = PurePath(video["filename"] or "video").stem or "video"
        response.headers["Content-Disposition"] = content_disposition(f"{stem}-{name}.mp4")
    return response


def content_disposition(filename: str) -> str:
    """An attachment header that keeps any name intact (RFC 6266) and cannot break out of quotes."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\%;' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@bp.get("/hls/master.m3u8")
def master_playlist(video_id: str) -> Response:
    """Lists the rungs ready right now, so playback starts with the first one."""
    video = services().videos.get(checked_id(video_id))
    ready = jobs.playable_variants(video)
    if not ready:
        abort(404)
    variants = [hls.Variant.from_dict(e["hls"]) for e in ready]
    body = hls.render_master(variants, {v.name: f"{v.name}/{hls.PLAYLIST}" for v in variants})
    return Response(body, mimetype=HLS_TYPES[".m3u8"], headers={"Cache-Control": "no-cache"})


@bp.get("/hls/<name>/<filename>")
def hls_file(video_id: str, name: str, filename: str):  # type: ignore[no-untyped-def]
    if not hls.FILE_NAME.match(filename):
        abort(404)
    _ready_rung(services().videos.get(checked_id(video_id)), name)
    path = services().storage.local_input(f"{storage.hls_prefix(video_id, name)}/{filename}")
    return send_file(path, mimetype=HLS_TYPES[PurePath(filename).suffix], conditional=True, max_age=3600)


@bp.get("/<any(poster.jpg, storyboard.jpg, storyboard.vtt):filename>")
def preview_file(video_id: str, filename: str):  # type: ignore[no-untyped-def]
    video = services().videos.get(checked_id(video_id))
    if video["previews"]["state"] != jobs.RungState.READY.value:
        abort(404)
    path = services().storage.local_input(storage.preview_key(video_id, filename))
    return send_file(path, mimetype=PREVIEW_FILES[filename], conditional=True, max_age=3600)
