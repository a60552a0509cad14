"""The HTML pages: upload, library, watch. Server-rendered; small plain scripts do the rest."""

from __future__ import annotations

from flask import Blueprint, render_template

from .views import checked_id, services, video_json

bp = Blueprint("pages", __name__)


@bp.get("/")
def upload() -> str:
    return render_template("upload.html", active="upload")


@bp.get("/videos")
def library() -> str:
    videos = [video_json(v) for v in services().videos.recent(50)]
    return render_template("library.html", active="library", videos=videos)


@bp.get("/videos/<video_id>")
def watch(video_id: str) -> str:
    video = video_json(services().videos.get(checked_id(video_id)))
    return render_template("watch.html", active="library", video=video)
