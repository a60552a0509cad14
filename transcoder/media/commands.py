"""Every ffmpeg command this project runs, built purely and unit-tested without running anything.

They are run by ``transcoder.media.process``; the work that runs them is in ``transcoder.work``.

A video part decodes its frames once and ``split``s them into every rendition it
makes (and into storyboard tiles and the poster, which cost no decode of their
own). Each rendition goes straight to fMP4 HLS segments whose timestamps are the
video's own, so the segments of all parts play, and join, as one stream. The sound
part decodes the sound once and encodes it at each bitrate the ladder uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ffmpeg

from transcoder.media import color
from transcoder.media.hls import INIT, PLAYLIST, SEGMENT_SECONDS
from transcoder.media.ladder import Rendition
from transcoder.media.planner import Part
from transcoder.media.policy import (
    DEFAULT_LIMITS,
    Limits,
    command_head,
    input_options,
    local_input,
)
from transcoder.media.previews import POSTER_CANDIDATES, StoryboardLayout, poster_size
from transcoder.media.probe import MediaInfo

#: Seconds between forced keyframes: the same in every rendition, so renditions switch cleanly.
KEYFRAME_INTERVAL_S = 2
CRF = 23
#: Every output's timestamps are shifted by this much, so no part starts below zero:
#: the muxer would shift such a part alone (by the encoder's delay) and break the seam.
TIMELINE_OFFSET_S = 1.0
TILE_PATTERN = "tile_%05d.jpg"


def hls_options(folder: Path | str, start: float) -> dict[str, Any]:
    """One fMP4 HLS rendition in ``folder``, its timestamps placed at ``start`` in the video.

    ``frag_discont`` makes each fragment carry its own decode time, so the parts'
    segments follow each other on one timeline instead of each starting at zero.
    """
    folder = Path(folder)
    return {
        "output_ts_offset": round(start + TIMELINE_OFFSET_S, 6),
        "format": "hls",
        "hls_time": SEGMENT_SECONDS,
        "hls_playlist_type": "vod",
        "hls_segment_type": "fmp4",
        "hls_segment_options": "movflags=+frag_discont",
        "hls_fmp4_init_filename": INIT,
        "hls_segment_filename": str(folder / "seg_%03d.m4s"),
        "hls_flags": "independent_segments",
    }


def video_part_args(
    src: Path | str,
    part: Part,
    renditions: list[Rendition],
    media: MediaInfo,
    folders: dict[str, Path],
    *,
    tiles: tuple[StoryboardLayout, Path] | None = None,
    poster: Path | None = None,
    preset: str = "veryfast",
    threads: int = 0,
    decode_threads: int = 0,
    limits: Limits = DEFAULT_LIMITS,
) -> list[str]:
    """Decode ``part``'s frames once; encode them into each rendition's HLS folder in ``folders``.

    Decoding starts at the source keyframe the part needs; every frame before the point
    halfway before the part's first frame is dropped, whatever the frame rate, and ``trim``
    stops after exactly its frame count: no frame is lost or doubled at a seam. Timestamps
    pass through unchanged (a variable frame rate stays as it is). ``threads`` is each
    encoder's thread count and ``decode_threads`` the decoder's (0: ffmpeg chooses).
    """
    options = input_options(limits)
    if decode_threads:
        options["threads"] = decode_threads
    landing = part.keyframe_seek is not None and part.seek is not None
    if landing:
        # The demuxer lands on the keyframe; the frames from it to the part's first are dropped here.
        options.update(ss=f"{part.keyframe_seek:.6f}", noaccurate_seek=None)
    elif part.seek is not None:
        options["ss"] = f"{part.seek:.6f}"
    source = ffmpeg.input(local_input(src), **options)
    frames = source[str(media.video_stream)]
    if landing:
        assert part.seek is not None and part.keyframe_seek is not None  # what ``landing`` says
        frames = frames.filter("select", f"gte(t,{part.seek - part.keyframe_seek:.6f})")
    cut = frames.filter("setpts", "PTS-STARTPTS").filter("trim", end_frame=part.frames)
    picture = prepared(cut, media)
    extras = (tiles is not None) + (poster is not None)
    split = picture.split() if extras else None
    streams = iter(split[i] for i in range(1 + extras)) if split is not None else iter([picture])
    outputs = []
    for rendition, video in zip(renditions, scaled(next(streams), renditions, media), strict=True):
        folder = folders[rendition.name]
        outputs.append(
            video.output(
                str(folder / PLAYLIST),
                vcodec="libx264",
                preset=preset,
                crf=CRF,
                maxrate=f"{rendition.video_maxrate_k}k",
                bufsize=f"{rendition.video_maxrate_k * 2}k",
                force_key_frames=f"expr:gte(t,n_forced*{KEYFRAME_INTERVAL_S})",
                sc_threshold=0,
                fps_mode="passthrough",
                **color.BT709_TAGS,
                threads=threads,
                **hls_options(folder, part.start),
            )
        )
    if tiles is not None:
        outputs.append(tiles_output(next(streams), part, *tiles, media))
    if poster is not None:
        outputs.append(poster_output(next(streams), part, poster, media))
    return ffmpeg.merge_outputs(*outputs).compile(cmd=command_head(limits))


def tiles_output(picture: Any, part: Part, layout: StoryboardLayout, folder: Path, media: MediaInfo) -> Any:
    """The part's storyboard tiles, one every ``layout.interval`` seconds, from its picture."""
    first, count = part.tiles
    start = max(0.0, first * layout.interval - part.start)
    return (
        picture.filter("fps", f"1/{layout.interval}", start_time=start, eof_action="pass")
        .filter("scale", layout.tile_width, layout.tile_height, **color.scale_options(media, jpeg=True))
        .filter("setsar", 1)
        .output(str(folder / TILE_PATTERN), vframes=count, start_number=first, format="image2",
                vcodec="mjpeg", **{"q:v": 4})
    )  # fmt: skip


def poster_output(picture: Any, part: Part, poster: Path, media: MediaInfo) -> Any:
    """The poster: the most typical of the candidates from ``part.poster_at`` on (not a black or
    fade frame)."""
    width, height = poster_size(media)
    return (
        picture.filter("trim", start=part.poster_at or 0.0)
        .filter("setpts", "PTS-STARTPTS")
        # Only the candidates reach the thumbnail filter: it would go on weighing every later
        # frame of the part, one batch after another, after the poster is written.
        .filter("trim", end_frame=POSTER_CANDIDATES)
        .filter("thumbnail", POSTER_CANDIDATES)
        .filter("scale", width, height, **color.scale_options(media, jpeg=True))
        .filter("setsar", 1)
        .output(str(poster), vframes=1, format="image2", vcodec="mjpeg", **{"q:v": 3})
    )


def scaled(picture: Any, renditions: list[Rendition], media: MediaInfo) -> list[Any]:
    """Each rendition's picture. Only the largest is scaled from the source; the others from
    it, a fraction of the work (scaling a 1080p source four times costs as much as decoding
    it three times), and no softer to the eye at these sizes."""
    largest = max(renditions, key=lambda r: r.width * r.height)
    top = (
        picture.filter("scale", largest.width, largest.height, **color.scale_options(media))
        .filter("setsar", 1)
        .filter("format", "yuv420p")
    )
    others = [r for r in renditions if r is not largest]
    if not others:
        return [top]
    split = top.split()
    branches = {largest.name: split[0]}
    for i, rendition in enumerate(others, start=1):
        branches[rendition.name] = (
            split[i]
            .filter("scale", rendition.width, rendition.height, **color.BT709_SCALE)
            .filter("setsar", 1)
        )
    return [branches[r.name] for r in renditions]


def audio_args(
    src: Path | str, media: MediaInfo, folders: dict[int, Path], limits: Limits = DEFAULT_LIMITS
) -> list[str]:
    """Decode the sound once and encode it as AAC at each bitrate (kbit/s) in ``folders``."""
    source = ffmpeg.input(local_input(src), **input_options(limits))
    sound = source["a:0" if media.audio_stream is None else str(media.audio_stream)]
    bitrates = sorted(folders)
    split = sound.asplit() if len(bitrates) > 1 else None
    outputs = [
        (split[i] if split is not None else sound).output(
            str(folders[k] / PLAYLIST),
            acodec="aac",
            audio_bitrate=f"{k}k",
            ac=2,
            t=limits.max_duration,
            **hls_options(folders[k], 0.0),
        )
        for i, k in enumerate(bitrates)
    ]
    return ffmpeg.merge_outputs(*outputs).compile(cmd=command_head(limits))


def prepared(video: ffmpeg.nodes.FilterableStream, media: MediaInfo) -> ffmpeg.nodes.FilterableStream:
    """Deinterlaced if it needs to be, and HDR taken to SDR (for a stream already chosen and cut)."""
    return color.to_sdr(video.filter("bwdif") if media.interlaced else video, media)


#: Inputs the join reads are files we wrote ourselves: fragmented MP4 and JPEG tiles only.
JOIN_FORMATS = "mov,image2"


def join_args(video: Path, sound: Path | None, dst: Path, limits: Limits) -> list[str]:
    """Copy the joined pictures (and the sound) into a ``+faststart`` MP4, no re-encoding."""
    options = {"protocol_whitelist": "file", "format_whitelist": JOIN_FORMATS}
    streams = [ffmpeg.input(local_input(video), **options)["v:0"]]
    if sound is not None:
        streams.append(ffmpeg.input(local_input(sound), **options)["a:0"])
    # The parts' own timestamps are kept (-copyts) and moved back to zero, so the sound's
    # encoder priming falls before zero and the MP4's edit list hides it, as in a one-pass encode.
    out = ffmpeg.output(*streams, str(dst), c="copy", format="mp4", movflags="+faststart",
                        output_ts_offset=-TIMELINE_OFFSET_S)  # fmt: skip
    return out.compile(cmd=[*command_head(limits), "-copyts"])


def sprite_args(tiles: Path, dst: Path, layout: StoryboardLayout, limits: Limits) -> list[str]:
    """The storyboard sprite from its tiles (``tile_00000.jpg`` ...), in rows of ``layout.columns``."""
    pattern = ffmpeg.input(
        local_input(tiles / TILE_PATTERN),
        protocol_whitelist="file",
        format_whitelist="image2",
        f="image2",
        start_number=0,
    )
    out = pattern.filter("tile", f"{layout.columns}x{layout.rows}").output(
        str(dst), vframes=1, format="image2", vcodec="mjpeg", **{"q:v": 4}
    )
    return out.compile(cmd=command_head(limits))
