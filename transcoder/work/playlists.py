"""A video's HLS playlists, written from its parts' results (pure).

A rendition's playlist holds the segments of its parts that are ready, from the
start up to the first part still missing, so a player can start as soon as the
first part and the sound are done and finds more each time it reloads.
"""

from __future__ import annotations

from transcoder.media import hls
from transcoder.media.planner import audio_id
from transcoder.records import states, summary

MASTER_AUDIO_CODEC = "mp4a.40.2"


def _outputs(parts: list[states.PartEntry], name: str) -> tuple[list[hls.PartOutput], bool]:
    """The ready parts' outputs for ``name`` in order, up to the first gap; and whether all are there."""
    outputs: list[hls.PartOutput] = []
    for part in parts:
        if part["state"] != states.PartState.READY:
            return outputs, False
        written = states.results_of(part)["renditions"][name]
        segments = tuple((s[0], s[1], s[2]) for s in written["segments"])
        outputs.append(hls.PartOutput(part["id"], written["init_md5"], segments))
    return outputs, True


def media(video: states.Video, name: str) -> str | None:
    """The playlist of a rendition or audio group, or None if none of it is ready."""
    if any(r["name"] == name for r in video["renditions"]):
        parts = states.video_parts(video, name)
    else:
        parts = [p for p in video["parts"] if p["kind"] == "audio" and p["id"] == name]
    outputs, complete = _outputs(parts, name)
    return hls.render_media(outputs, complete) if outputs else None


def master(video: states.Video) -> str | None:
    """The master playlist listing the renditions that can play now, or None if none can."""
    variants = [_variant(video, r) for r in summary.playable_renditions(video)]
    if not variants:
        return None
    uris = {v.name: f"{v.name}/{hls.PLAYLIST}" for v in variants}
    uris |= {v.audio: f"{v.audio}/{hls.PLAYLIST}" for v in variants if v.audio}
    return hls.render_master(variants, uris)


def _variant(video: states.Video, rendition: states.RenditionEntry) -> hls.Variant:
    name = rendition["name"]
    outputs, _ = _outputs(states.video_parts(video, name), name)
    first = states.results_of(states.video_parts(video, name)[0])["renditions"][name]
    segments = [s for o in outputs for s in o.segments]
    sizes = {f"{i}": s[2] for i, s in enumerate(segments)}
    peak, average = hls.bandwidths([hls.Segment(f"{i}", s[1]) for i, s in enumerate(segments)], sizes)
    has_audio = video["source"]["has_audio"]
    sound = rendition["audio_bitrate_k"] * 1000 if has_audio else 0
    codecs = first["codecs"] + (f",{MASTER_AUDIO_CODEC}" if has_audio else "")
    group = audio_id(rendition["audio_bitrate_k"]) if has_audio else None
    return hls.Variant(
        name, rendition["width"], rendition["height"], peak + sound, average + sound, codecs, group
    )
