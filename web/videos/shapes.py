"""The JSON shapes of a video and of a part, shared by the API, the live streams and the
pages; no routes (those are ``api``, ``files`` and ``pages``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, request, url_for

from transcoder.records import states, summary
from transcoder.storage.layout import POSTER, STORYBOARD_VTT

RENDITION_FIELDS = ("name", "width", "height", "state", "progress", "fps", "eta_seconds", "error")

#: Stands for the video id while a URL's shape is built once (a valid id, so routes accept it).
_ID = "f" * 32


UrlBuilder = Callable[..., str]


def video_urls() -> UrlBuilder:
    """A builder of videos' URLs for this request: each URL's shape is routed by werkzeug
    once per process and filled in after (a library page makes hundreds of URLs, and
    routing each cost half the page's time)."""
    shapes = current_app.extensions.setdefault("url_shapes", {})
    root = request.script_root

    def build(endpoint: str, video_id: str, **values: str) -> str:
        key = (endpoint, root, tuple(values.items()))
        shape = shapes.get(key)
        if shape is None:
            shape = shapes[key] = url_for(endpoint, video_id=_ID, **values)
        return shape.replace(_ID, video_id)

    return build


def video_json(video: states.Video, url: UrlBuilder | None = None) -> dict[str, Any]:
    """The public shape of a video; pass one ``video_urls()`` when making many."""
    url = url or video_urls()
    video_id = video["id"]
    source = video["source"]
    renditions = []
    for entry in video["renditions"]:
        item = {field: entry[field] for field in RENDITION_FIELDS}
        ready = entry["state"] == states.PartState.READY
        item["url"] = url("files.rendition_file", video_id, name=entry["name"]) if ready else None
        renditions.append(item)
    playable = bool(summary.playable_renditions(video))
    previews_ready = video["previews"]["state"] == states.PartState.READY

    def preview(name: str) -> str | None:
        return url("files.preview_file", video_id, filename=name) if previews_ready else None

    return {
        "id": video_id,
        "state": video["state"],
        "progress": summary.overall_progress(video),
        "error": video["error"],
        "filename": video["filename"],
        "owner": video.get("owner_name"),
        "created_at": video["created_at"],
        "seq": video["seq"],
        "source": {
            "width": source["width"],
            "height": source["height"],
            "duration": source["duration"],
            "has_audio": source["has_audio"],
            "sha256": video.get("source_sha256"),
            # Records made before colour was probed lack these keys.
            "hdr": source.get("hdr"),
            "color": {
                "transfer": source.get("color_transfer"),
                "primaries": source.get("color_primaries"),
                "matrix": source.get("color_matrix"),
                "peak_nits": source.get("peak_nits"),
                "dolby_vision": source.get("dolby_vision", False),
            },
        },
        "renditions": renditions,
        "playable": playable,
        "hls_url": url("files.master_playlist", video_id) if playable else None,
        "poster_url": preview(POSTER),
        "storyboard_vtt_url": preview(STORYBOARD_VTT),
        "watch_url": url("pages.watch", video_id),
        "links": links(video_id, url),
    }


PART_FIELDS = ("id", "kind", "rungs", "first", "start", "frames", "seconds", "state", "progress", "fps",
               "eta_seconds", "attempts", "worker", "started_at", "finished_at", "error")  # fmt: skip


def parts_json(part: dict[str, Any]) -> dict[str, Any]:
    return {field: part[field] for field in PART_FIELDS}


def links(video_id: str, url: UrlBuilder | None = None) -> dict[str, str]:
    url = url or video_urls()
    return {"self": url("api.get_video", video_id), "events": url("sse.video_events", video_id)}
