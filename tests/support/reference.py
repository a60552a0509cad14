"""Commands an operator would type by hand: what this project is measured and compared against."""

from __future__ import annotations

from pathlib import Path

import ffmpeg

from transcoder.media import color
from transcoder.media.commands import CRF, KEYFRAME_INTERVAL_S
from transcoder.media.ladder import Rendition, renditions_for
from transcoder.media.probe import MediaInfo, probe


def _encoder(rendition: Rendition) -> dict[str, object]:
    return {
        "vcodec": "libx264", "preset": "veryfast", "crf": CRF, "maxrate": f"{rendition.video_maxrate_k}k",
        "bufsize": f"{rendition.video_maxrate_k * 2}k",
        "force_key_frames": f"expr:gte(t,n_forced*{KEYFRAME_INTERVAL_S})", "sc_threshold": 0,
        "acodec": "aac", "audio_bitrate": f"{rendition.audio_bitrate_k}k", "ac": 2, "movflags": "+faststart",
    }  # fmt: skip


def one_pass(src: Path, dst: Path, rendition: Rendition, media: MediaInfo) -> list[str]:
    """One rendition encoded from the whole source in one ffmpeg (an MP4, with its sound)."""
    source = ffmpeg.input(str(src))
    video = (
        source["v:0"]
        .filter("scale", rendition.width, rendition.height, **color.scale_options(media))
        .filter("setsar", 1)
        .filter("format", "yuv420p")
    )
    streams = [video] + ([source["a:0"]] if media.has_audio else [])
    out = ffmpeg.output(*streams, str(dst), **_encoder(rendition)).overwrite_output()
    return out.compile(cmd=["ffmpeg", "-nostdin", "-v", "error"])


def split_command(src: Path, out: Path) -> list[str]:
    """One ffmpeg as an operator would type it: one decode, ``split`` into every rendition's x264
    encoder, with the settings this project uses (CRF, maxrate, keyframes, AAC)."""
    media = probe(src)
    renditions = renditions_for(media.width, media.height)
    source = ffmpeg.input(str(src))
    pictures = source["v:0"].split()
    outputs = []
    for i, r in enumerate(renditions):
        video = (
            pictures[i].filter("scale", r.width, r.height, **color.scale_options(media)).filter("setsar", 1)
        )
        streams = [video.filter("format", "yuv420p")] + ([source["a:0"]] if media.has_audio else [])
        outputs.append(ffmpeg.output(*streams, str(out / f"{r.name}.mp4"), **_encoder(r)))
    return (
        ffmpeg.merge_outputs(*outputs).overwrite_output().compile(cmd=["ffmpeg", "-nostdin", "-v", "error"])
    )
