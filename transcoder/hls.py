"""HLS packaging: each rung's MP4 cut into fMP4 segments, and the master playlist.

Every rung has a keyframe every 2 s at the same times (see ``ffmpeg.build_args``),
so cutting with stream copy at 4 s gives segments that line up across rungs, and
a player can switch rung at any segment boundary.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from .policy import DEFAULT_LIMITS, Limits, command_head, input_options, local_input

SEGMENT_SECONDS = 4
PLAYLIST = "index.m3u8"
INIT = "init.mp4"
#: The only file names a rung's HLS folder holds; the web app serves nothing else.
FILE_NAME = re.compile(r"^(index\.m3u8|init\.mp4|seg_\d{3,6}\.m4s)$")

AVC_PROFILES = {"Baseline": "4200", "Constrained Baseline": "42e0", "Main": "4d00", "High": "6400"}


@dataclass(frozen=True)
class Segment:
    uri: str
    duration: float


@dataclass(frozen=True)
class Variant:
    """What the master playlist says about one rung."""

    name: str
    width: int
    height: int
    bandwidth: int
    average_bandwidth: int
    codecs: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Variant:
        return cls(**data)


def segment_args(mp4: Path | str, out_dir: Path | str, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Cut an encoded MP4 into an fMP4 HLS rendition in ``out_dir``, without re-encoding."""
    out = Path(out_dir)
    stream = ffmpeg.input(local_input(mp4), **input_options(limits)).output(
        str(out / PLAYLIST),
        c="copy",
        f="hls",
        hls_time=SEGMENT_SECONDS,
        hls_playlist_type="vod",
        hls_segment_type="fmp4",
        hls_fmp4_init_filename=INIT,
        hls_segment_filename=str(out / "seg_%03d.m4s"),
        hls_flags="independent_segments",
    )
    return stream.compile(cmd=command_head(limits))


def parse_media_playlist(text: str) -> list[Segment]:
    """The segments of a media playlist, in order."""
    segments: list[Segment] = []
    duration: float | None = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",")[0])
        elif line and not line.startswith("#"):
            if duration is None:
                raise ValueError(f"Segment {line!r} has no #EXTINF before it")
            segments.append(Segment(line, duration))
            duration = None
    return segments


def bandwidths(segments: list[Segment], sizes: dict[str, int], init_size: int = 0) -> tuple[int, int]:
    """(peak, average) bits per second, as the master playlist's BANDWIDTH and AVERAGE-BANDWIDTH."""
    total_bytes = sum(sizes[s.uri] for s in segments) + init_size
    total_seconds = sum(s.duration for s in segments)
    peak = max((sizes[s.uri] * 8 / s.duration for s in segments if s.duration > 0), default=0.0)
    average = total_bytes * 8 / total_seconds if total_seconds > 0 else 0.0
    return math.ceil(max(peak, average)), math.ceil(average)


def codecs(probe_data: dict[str, Any]) -> str:
    """RFC 6381 codec names (``avc1.64001e,mp4a.40.2``) from ffprobe's JSON of an output."""
    names = []
    for stream in probe_data.get("streams", []):
        if stream.get("codec_name") == "h264":
            profile = AVC_PROFILES.get(stream.get("profile", ""), "6400")
            level = int(stream.get("level") or 30)
            names.append(f"avc1.{profile}{level:02x}")
        elif stream.get("codec_name") == "aac":
            names.append("mp4a.40.2")
    return ",".join(names)


def render_master(variants: Iterable[Variant], uri_for: dict[str, str]) -> str:
    """The master playlist listing ``variants`` (lowest first), each at ``uri_for[name]``."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for v in variants:
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={v.bandwidth},AVERAGE-BANDWIDTH={v.average_bandwidth},"
            f'RESOLUTION={v.width}x{v.height},CODECS="{v.codecs}",NAME="{v.name}"'
        )
        lines.append(uri_for[v.name])
    return "\n".join(lines) + "\n"
