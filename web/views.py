"""The public shape of a video, shared by the JSON API and the event stream."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for

from transcoder import jobs
from transcoder.services import Services

RENDITION_FIELDS = ("name", "width", "height", "state", "progress", "fps", "eta_seconds", "error")


def services() -> Services:
    return current_app.extensions["transcoder"]


def video_json(video: jobs.Video) -> dict[str, Any]:
    source = video["source"]
    renditions = []
    for entry in video["renditions"]:
        item = {field: entry[field] for field in RENDITION_FIELDS}
        item["url"] = (
            url_for("api.rendition_file", video_id=video["id"], name=entry["name"])
            if entry["state"] == jobs.RungState.READY.value
            else None
        )
        renditions.append(item)
    return {
        "id": video["id"],
        "state": video["state"],
        "progress": jobs.overall_progress(video),
        "error": video["error"],
        "filename": video["filename"],
        "created_at": video["created_at"],
        "seq": video["seq"],
        "source": {
            "width": source["width"],
            "height": source["height"],
            "duration": source["duration"],
            "has_audio": source["has_audio"],
        },
        "renditions": renditions,
        "links": links(video["id"]),
    }


def links(video_id: str) -> dict[str, str]:
    return {
        "self": url_for("api.get_video", video_id=video_id),
        "events": url_for("stream.video_events", video_id=video_id),
    }
