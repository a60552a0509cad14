"""The HTML pages: upload, library, watch. Server-rendered; small plain scripts do the rest."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from transcoder.records.states import VideoState

from ..auth.access import owned_video
from ..auth.identity import current_user
from .library import library_page
from .shapes import video_json, video_urls

bp = Blueprint("pages", __name__)


@bp.get("/")
def upload() -> str:
    return render_template("upload.html", active="upload")


@bp.get("/videos")
def library() -> str:
    user = current_user()
    videos, next_cursor = library_page(request.args, user)
    url = video_urls()
    return render_template(
        "library.html",
        active="library",
        videos=[video_json(v, url) for v in videos],
        next_cursor=next_cursor,
        state=request.args.get("state") or "",
        query=(request.args.get("q") or "").strip(),
        first_page=not request.args.get("cursor"),
        states=[s.value for s in VideoState],
        owner=(request.args.get("owner") or "").strip() if user.admin else "",
        admin=user.admin,
    )


@bp.get("/videos/<video_id>")
def watch(video_id: str) -> str:
    video = video_json(owned_video(video_id))
    return render_template("watch.html", active="library", video=video)
