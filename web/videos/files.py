"""What a video became, as files: MP4 downloads, HLS playlists and segments, poster,
storyboard.

Every path is built from a checked video id and names we chose; nothing a client
sends becomes part of a file path.
"""

from __future__ import annotations

import logging
import re
from pathlib import PurePath
from urllib.parse import quote

from flask import Blueprint, Response, abort, request, send_file

from transcoder.errors import StorageError, StoredFileMissing, TranscoderError, Transient
from transcoder.media import hls
from transcoder.records import states
from transcoder.storage.layout import (
    POSTER,
    STORYBOARD_IMAGE,
    STORYBOARD_VTT,
    part_prefix,
    preview_key,
    rendition_key,
)
from transcoder.work import playlists

from ..auth.access import owned_video
from ..services import services

bp = Blueprint("files", __name__, url_prefix="/api/videos/<video_id>")
log = logging.getLogger(__name__)

#: One range, as browsers send them; anything else gets the whole file.
BYTE_RANGE = re.compile(r"\Abytes=([0-9]+-[0-9]*|-[0-9]+)\Z")
PREVIEW_FILES = {POSTER: "image/jpeg", STORYBOARD_IMAGE: "image/jpeg", STORYBOARD_VTT: "text/vtt"}
#: Playlists change as parts finish, and are their owner's: asked for again each time.
PLAYLIST_HEADERS = {"Cache-Control": "private, no-cache", "Vary": "Authorization, Cookie"}
HLS_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".mp4": "video/mp4", ".m4s": "video/iso.segment"}


def home(video: states.Video) -> str:
    """Whose folder holds a video's files: its own, or the one whose outputs it reuses."""
    return video.get("files_from") or video["id"]


def _ready_rendition(video: states.Video, name: str) -> dict:
    entry = next((e for e in video["renditions"] if e["name"] == name), None)
    if entry is None or entry["state"] != states.PartState.READY:
        abort(404)
    return entry


@bp.get("/renditions/<name>.mp4")
def rendition_file(video_id: str, name: str):  # type: ignore[no-untyped-def]
    video = owned_video(video_id)
    _ready_rendition(video, name)
    response = serve(rendition_key(home(video), name), "video/mp4")
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
    """Lists the renditions that can play right now, so playback starts with the first part."""
    body = playlists.master(owned_video(video_id))
    if body is None:
        abort(404)
    return Response(body, mimetype=HLS_TYPES[".m3u8"], headers=PLAYLIST_HEADERS)


@bp.get("/hls/<name>/index.m3u8")
def media_playlist(video_id: str, name: str) -> Response:
    """A rendition's (or the sound's) segments ready so far; it grows until the video is ready."""
    body = playlists.media(owned_video(video_id), name)
    if body is None:
        abort(404)
    return Response(body, mimetype=HLS_TYPES[".m3u8"], headers=PLAYLIST_HEADERS)


@bp.get("/hls/<name>/<part_id>/<filename>")
def hls_file(video_id: str, name: str, part_id: str, filename: str):  # type: ignore[no-untyped-def]
    """One segment (or init segment) of a part that is ready."""
    if not hls.FILE_NAME.match(filename) or not hls.PART_NAME.match(part_id):
        abort(404)
    video = owned_video(video_id)
    part = next((p for p in video["parts"] if p["id"] == part_id), None)
    if part is None or part["state"] != states.PartState.READY:
        abort(404)
    if name not in (part["results"] or {}).get("renditions", {}):
        abort(404)
    key = f"{part_prefix(home(video), name, part_id)}/{filename}"
    return serve(key, HLS_TYPES[PurePath(filename).suffix])


@bp.get(f"/<any({', '.join(PREVIEW_FILES)}):filename>")
def preview_file(video_id: str, filename: str):  # type: ignore[no-untyped-def]
    video = owned_video(video_id)
    ready = video["previews"]["state"] == states.PartState.READY
    poster = filename == POSTER and _has_poster(video)
    if not (ready or poster):
        abort(404)
    return serve(preview_key(home(video), filename), PREVIEW_FILES[filename])


def _has_poster(video: states.Video) -> bool:
    return any(
        p["state"] == states.PartState.READY and (p["results"] or {}).get("poster") for p in video["parts"]
    )


def serve(key: str, mimetype: str) -> Response:
    """Send a stored file with Range support: a local file directly, an object in a bucket
    streamed through this process (no bucket address or CORS rule ever reaches the browser)."""
    store = services().storage
    requested = request.headers.get("Range")
    byte_range = requested if requested and BYTE_RANGE.match(requested) else None
    try:
        path = store.local_path(key)
        if path is not None:
            return _private(send_file(path, mimetype=mimetype, conditional=True, max_age=3600))
        blob = store.read(key, byte_range)
    except (StoredFileMissing, FileNotFoundError):
        abort(404)  # a name that fits the route but names nothing (or a file deleted meanwhile)
    except StorageError as exc:
        if exc.code != "bad_range":
            raise _unsaid(exc) from exc
        return Response(status=416, headers={"Content-Range": "bytes */*"})
    except Transient as exc:
        raise _unsaid(exc) from exc
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(blob.length)}
    if blob.content_range:
        headers["Content-Range"] = blob.content_range
    if blob.etag:
        headers["ETag"] = blob.etag
    response = Response(
        blob.chunks, status=blob.status, mimetype=mimetype, headers=headers, direct_passthrough=True
    )
    response.call_on_close(blob.close)
    return _private(response)


def _unsaid(exc: TranscoderError) -> TranscoderError:
    """The same error, its message (which names the stored key or the bucket's address)
    kept for the operator's log, not sent to the client."""
    log.error("Serving a stored file failed: %s", exc.message)
    message = "This file cannot be read from storage right now; the server's log says why."
    return type(exc)(message, code=exc.code)


def _private(response: Response) -> Response:
    """A video is its owner's: kept by the browser, never by a shared cache, and never
    given by a cache to a request with other credentials."""
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.max_age = 3600
    response.vary.update(("Authorization", "Cookie"))
    return response
