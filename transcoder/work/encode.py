"""The work of the parts that encode: pictures for a time range, and the sound.

Each writes HLS segments into a folder per rendition (published whole, so a
reader never sees half of one) and returns what it wrote, checked complete:
the playlists and the join are built from these results alone.
"""

from __future__ import annotations

import hashlib
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from transcoder.errors import StorageError
from transcoder.media import commands, hls, process
from transcoder.media.ladder import Rendition
from transcoder.media.planner import LATER_NICENESS, Part
from transcoder.media.previews import StoryboardLayout
from transcoder.media.probe import MediaInfo
from transcoder.records import states
from transcoder.records.document import Written
from transcoder.services import Services
from transcoder.storage.layout import POSTER, part_prefix, preview_key, source_key, tiles_prefix


def outputs(video: states.Video, entry: states.PartEntry) -> list[str]:
    """The storage keys a part writes."""
    video_id, part_id = video["id"], entry["id"]
    if entry["kind"] == "audio":
        return [part_prefix(video_id, part_id, part_id)]
    keys = [part_prefix(video_id, name, part_id) for name in entry["rungs"]]
    if entry["tiles"][1]:
        keys.append(tiles_prefix(video_id, part_id))
    if entry["poster_at"] is not None:
        keys.append(preview_key(video_id, POSTER))
    return keys


def encode_pictures(
    services: Services, video: states.Video, entry: states.PartEntry, watch: process.Watch, reporter: Any
) -> states.PartResults:
    """Decode the part's frames once; write every rendition's segments, its tiles, the poster."""
    video_id, part_id = video["id"], entry["id"]
    media = MediaInfo.from_dict(video["source"])
    part = Part.from_dict(entry)
    renditions = [Rendition.from_dict(states.rendition(video, name)) for name in part.renditions]
    storage, settings = services.storage, services.settings
    storyboard = StoryboardLayout.from_dict(video["storyboard_plan"])
    with ExitStack() as stack:
        src = stack.enter_context(storage.fetch(source_key(video_id)))
        folders = {r.name: stack.enter_context(storage.writing_dir(part_prefix(video_id, r.name, part_id)))
                   for r in renditions}  # fmt: skip
        tiles = None
        if part.tiles[1]:
            tiles = (storyboard, stack.enter_context(storage.writing_dir(tiles_prefix(video_id, part_id))))
        poster = None
        if part.poster_at is not None:
            poster = stack.enter_context(storage.writing(preview_key(video_id, POSTER)))
        argv = commands.video_part_args(
            src, part, renditions, media, folders, tiles=tiles, poster=poster,
            preset=settings.x264_preset, threads=settings.ffmpeg_threads,
            decode_threads=decode_threads(entry, settings.ffmpeg_threads), limits=settings.limits,
        )  # fmt: skip
        cpu = process.run(argv, reporter, watch, niceness=_niceness(entry))
        span = (part.start + commands.TIMELINE_OFFSET_S, part.seconds)
        written = {name: describe(folder, part.seconds, span) for name, folder in folders.items()}
        codecs = {name: hls.avc_codec((folders[name] / hls.INIT).read_bytes()) for name in folders}
        tile_names = sorted(p.name for p in tiles[1].glob("tile_*.jpg")) if tiles else []
    return {
        "renditions": {name: {**written[name], "codecs": codecs[name]} for name in written},
        # What ffmpeg encoded: fewer than planned when the source has frames it cannot decode.
        "encoded_frames": reporter.encoded,
        "tiles": tile_names,
        "poster": poster is not None,
        "cpu_seconds": round(cpu, 2),
    }


def encode_sound(
    services: Services, video: states.Video, entry: states.PartEntry, watch: process.Watch, reporter: Any
) -> states.PartResults:
    """Encode the whole sound at one bitrate: its HLS audio rendition."""
    video_id, part_id = video["id"], entry["id"]
    media = MediaInfo.from_dict(video["source"])
    storage, limits = services.storage, services.settings.limits
    with ExitStack() as stack:
        src = stack.enter_context(storage.fetch(source_key(video_id)))
        folder = stack.enter_context(storage.writing_dir(part_prefix(video_id, part_id, part_id)))
        argv = commands.audio_args(src, media, {entry["bitrate_k"]: folder}, limits)
        cpu = process.run(argv, reporter, watch, niceness=_niceness(entry))
        return {"renditions": {part_id: describe(folder, 0.0)}, "cpu_seconds": round(cpu, 2)}


def describe(folder: Path, seconds: float, span: tuple[float, float] | None = None) -> Written:
    """The segments ffmpeg wrote in ``folder``, checked complete.

    Some muxers exit cleanly after a failed write (a full disk), so the segments
    must all be there, none empty, and add up to the part's length. For pictures,
    ``span`` (where the part starts on the timeline, and how long it lasts) gives
    each segment its true length, read from the segments themselves.
    """
    segments = hls.parse_media_playlist((folder / hls.PLAYLIST).read_text())
    sizes = {s.uri: (folder / s.uri).stat().st_size if (folder / s.uri).exists() else 0 for s in segments}
    init = folder / hls.INIT
    if not segments or 0 in sizes.values() or not init.exists():
        raise StorageError("The HLS segments of this part were not all written (is the disk full?).")
    data = init.read_bytes()
    durations = [s.duration for s in segments]
    if span is not None:
        times = [hls.decode_time((folder / s.uri).read_bytes()[:4096]) for s in segments]
        durations = hls.segment_durations(times, hls.timescale(data), span[0], span[0] + span[1])
    if sum(durations) < 0.9 * seconds - 0.5:
        raise StorageError("The HLS segments of this part were not all written (is the disk full?).")
    return {
        "init_md5": hashlib.md5(data).hexdigest(),
        "stsd_md5": hashlib.md5(hls.sample_description(data)).hexdigest(),
        "segments": [[s.uri, d, sizes[s.uri]] for s, d in zip(segments, durations, strict=True)],
    }


def decode_threads(entry: states.PartEntry, threads: int) -> int:
    """One decoding thread for a part that shares the machine with others: the encoders keep
    every core busy, and frame threads only add the cost of handing frames between them (about
    3 % of a 1080p film's CPU). The part playback waits for, often alone, decodes on every core."""
    return threads if entry.get("urgent") else 1


def _niceness(entry: states.PartEntry) -> int:
    return 0 if entry.get("urgent") else LATER_NICENESS
