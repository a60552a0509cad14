"""Joining: each rendition's parts and the sound become one MP4, and the tiles one storyboard.

Nothing is encoded again. A part's init segment and its media segments are, byte
for byte, a fragmented MP4 whose timestamps are the video's own; the parts' are
laid end to end, the sound added, and the result rewritten with its index first
(``+faststart``) so a browser can play it while it downloads. The join checks
that every planned frame is there before the rendition is ready.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from transcoder.errors import FfmpegFailed, StorageError
from transcoder.media import hls, mp4_index, previews
from transcoder.media.commands import join_args, sprite_args
from transcoder.media.previews import StoryboardLayoutDict
from transcoder.media.process import run as ffmpeg_run
from transcoder.records import states
from transcoder.records.document import Written
from transcoder.services import Services
from transcoder.storage import scratch
from transcoder.storage.layout import (
    STORYBOARD_IMAGE,
    STORYBOARD_VTT,
    part_prefix,
    preview_key,
    rendition_key,
    tiles_prefix,
)


def outputs(video: states.Video, entry: states.PartEntry) -> list[str]:
    """The storage keys the join writes: every rendition's MP4, and the storyboard."""
    video_id = video["id"]
    return [rendition_key(video_id, r["name"]) for r in video["renditions"]] + [
        preview_key(video_id, name) for name in (STORYBOARD_IMAGE, STORYBOARD_VTT)
    ]


def join(
    services: Services, video: states.Video, entry: states.PartEntry, watch: Any, reporter: Any
) -> states.PartResults:
    """Make every rendition's MP4, then the storyboard (which, if it fails, only costs the previews)."""
    storage, limits = services.storage, services.settings.limits
    with scratch.folder(services.settings.scratch_dir, "join") as work:
        sounds = {
            k: _gather_sound(services, video, k, work)
            for k in {r["audio_bitrate_k"] for r in video["renditions"]}
        }

        def one(rendition: states.RenditionEntry) -> float:
            name = rendition["name"]
            pictures = _gather(services, video, name, work / f"{name}-video.mp4")
            with storage.writing(rendition_key(video["id"], name)) as mp4:
                spent = ffmpeg_run(
                    join_args(pictures, sounds[rendition["audio_bitrate_k"]], mp4, limits), watch=watch
                )
                check_frame_count(mp4_index.video_frames(mp4), expected_frames(video, name))
            return spent

        # The renditions are joined side by side: each is mostly reading and writing, and the
        # join is the one part of a video that nothing else runs beside.
        with ThreadPoolExecutor(len(video["renditions"])) as pool:
            cpu = sum(pool.map(one, video["renditions"]))
        storyboard, sprite_cpu = _storyboard(services, video, work, watch)
    return {
        "storyboard": storyboard,
        "cpu_seconds": round(cpu, 2),
        "sprite_cpu_seconds": round(sprite_cpu, 2),
    }


def _gather(services: Services, video: states.Video, name: str, dst: Path) -> Path:
    """One rendition's parts end to end, as one fragmented MP4 under the first part's init
    segment: every part must describe its pictures the same way."""
    parts = states.video_parts(video, name)
    outputs = [states.results_of(p)["renditions"][name] for p in parts]
    if len({o["stsd_md5"] for o in outputs}) != 1:
        raise FfmpegFailed(
            f"The parts of the {name} rendition were encoded differently and cannot be joined.",
            returncode=0,
            stderr_tail="",
        )
    _concat(
        services,
        [(part_prefix(video["id"], name, p["id"]), o) for p, o in zip(parts, outputs, strict=True)],
        dst,
    )
    return dst


def _gather_sound(services: Services, video: states.Video, bitrate_k: int, work: Path) -> Path | None:
    """The sound at a rendition's bitrate, as one fragmented MP4 (made once per bitrate)."""
    audio = states.sound_of(video, bitrate_k)
    if audio is None:
        return None
    dst = work / f"{audio['id']}.mp4"
    if not dst.exists():
        written = states.results_of(audio)["renditions"][audio["id"]]
        _concat(services, [(part_prefix(video["id"], audio["id"], audio["id"]), written)], dst)
    return dst


def _concat(services: Services, pieces: list[tuple[str, Written]], dst: Path) -> None:
    """The first piece's init segment, then every piece's media segments, in order."""
    with open(dst, "wb") as out:
        for index, (prefix, output) in enumerate(pieces):
            names = ([hls.INIT] if index == 0 else []) + [s[0] for s in output["segments"]]
            for name in names:
                _copy(services, f"{prefix}/{name}", out)


def expected_frames(video: states.Video, name: str) -> int:
    """Frames a rendition must hold: all that its parts encoded, so a part lost or cut short
    in the join is caught (a damaged source may give fewer than planned: those are gone)."""
    return sum(states.results_of(p)["encoded_frames"] for p in states.video_parts(video, name))


def _copy(services: Services, key: str, out: BinaryIO) -> None:
    """Append a stored file to ``out``, streamed: segments are read once, never cached."""
    blob = services.storage.read(key)
    try:
        for chunk in blob.chunks:
            out.write(chunk)
    finally:
        blob.close()


def _fill_gaps(tiles: Path, count: int) -> bool:
    """Stand in for tiles a damaged source could not give with the nearest one before (or
    after), so every cue still points at its own time; False if there are none at all."""
    names = [f"tile_{i:05d}.jpg" for i in range(count)]
    have = [i for i, name in enumerate(names) if (tiles / name).exists()]
    if not have:
        return False
    for i, name in enumerate(names):
        if i not in have:
            nearest = max((j for j in have if j < i), default=min(have))
            shutil.copyfile(tiles / names[nearest], tiles / name)
    return True


def _storyboard(
    services: Services, video: states.Video, work: Path, watch: Any
) -> tuple[StoryboardLayoutDict | None, float]:
    """The sprite and its WebVTT, or None if a tile is missing (the video plays without); and
    the CPU seconds the sprite took."""
    layout = previews.StoryboardLayout.from_dict(video["storyboard_plan"])
    tiles = work / "tiles"
    tiles.mkdir()
    try:
        for part in states.video_parts(video):
            for name in states.results_of(part).get("tiles", []):
                with open(tiles / name, "wb") as out:
                    _copy(services, f"{tiles_prefix(video['id'], part['id'])}/{name}", out)
        if not _fill_gaps(tiles, layout.count):
            return None, 0.0
        with services.storage.writing(preview_key(video["id"], STORYBOARD_IMAGE)) as sprite:
            cpu = ffmpeg_run(sprite_args(tiles, sprite, layout, services.settings.limits), watch=watch)
        with services.storage.writing(preview_key(video["id"], STORYBOARD_VTT)) as vtt:
            vtt.write_text(previews.storyboard_vtt(layout, video["source"]["duration"], STORYBOARD_IMAGE))
    except (StorageError, FfmpegFailed):
        return None, 0.0
    return layout.to_dict(), cpu


def check_frame_count(found: int, expected: int) -> None:
    """The safety net of the join: a healthy run never trips it, so a rendition that lost a
    part's pictures is refused rather than made ready."""
    if found != expected:
        raise StorageError(f"A joined rendition holds {found} frames instead of {expected}.")
