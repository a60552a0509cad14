"""The public JSON of a video (and of a part and a library page), shared by the API, the live
streams and the pages; no routes (Flask's "views" are route handlers, in ``api`` and ``pages``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app, request, url_for

from transcoder.accounts.users import User
from transcoder.errors import InvalidInput
from transcoder.records import states, summary
from transcoder.records.states import Video, VideoState
from transcoder.storage.layout import POSTER, STORYBOARD_VTT

from .context import owner_filter, services

RENDITION_FIELDS = ("name", "width", "height", "state", "progress", "fps", "eta_seconds", "error")


#: What no file name or search holds: C0 and C1 control characters, DEL.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

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


def library_page(args: Mapping[str, str], user: User) -> tuple[list[Video], str | None]:
    """The library page these query arguments ask for (the API's and the page's): an
    uploader's own videos, or an admin's choice of everyone's (``owner`` names one user)."""
    state = args.get("state") or None
    if state is not None and state not in {s.value for s in VideoState}:
        names = ", ".join(s.value for s in VideoState)
        raise InvalidInput(f"state must be one of {names}, not {state!r}.", code="bad_filter")
    try:
        limit = min(max(int(args.get("limit") or 50), 1), 200)
    except ValueError:
        raise InvalidInput("limit must be a whole number from 1 to 200.", code="bad_filter") from None
    query = args.get("q") or ""
    if CONTROL.search(query):
        # A NUL reached the search as a pattern that matched every video.
        raise InvalidInput("q must not hold control characters.", code="bad_filter")
    query = query.strip()[:100]
    owner = owner_filter(user)
    if user.admin and (name := (args.get("owner") or "").strip()):
        found = services().users.by_name(name[:64])
        if found is None:
            raise InvalidInput(f"No user named {name[:64]!r}.", code="bad_filter")
        owner = found.id
    cursor = args.get("cursor") or None
    return services().videos.page(state=state, query=query, cursor=cursor, limit=limit, owner=owner)


def video_json(video: states.Video, url: UrlBuilder | None = None) -> dict[str, Any]:
    """The public shape of a video; pass one ``video_urls()`` when making many."""
    url = url or video_urls()
    video_id = video["id"]
    source = video["source"]
    renditions = []
    for entry in video["renditions"]:
        item = {field: entry[field] for field in RENDITION_FIELDS}
        ready = entry["state"] == states.PartState.READY
        item["url"] = url("media.rendition_file", video_id, name=entry["name"]) if ready else None
        renditions.append(item)
    playable = bool(summary.playable_renditions(video))
    previews_ready = video["previews"]["state"] == states.PartState.READY

    def preview(name: str) -> str | None:
        return url("media.preview_file", video_id, filename=name) if previews_ready else None

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
        "hls_url": url("media.master_playlist", video_id) if playable else None,
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
    return {"self": url("api.get_video", video_id), "events": url("stream.video_events", video_id)}
