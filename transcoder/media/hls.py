"""HLS: the playlists, written from what each part produced.

Every part writes its own fMP4 segments for each rendition it encodes, with
keyframes every 2 s at the same times in every rendition, so segments line up
across renditions and a player can switch at any boundary. A rendition's playlist
lists the segments of its parts that are ready, in order: it grows while later
parts are encoded (an EVENT playlist) and is closed once every part is there.
The sound is one audio rendition per bitrate, which every video rendition names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

SEGMENT_SECONDS = 4
PLAYLIST = "index.m3u8"
INIT = "init.mp4"
#: The only file names a rendition's HLS folder holds; the web app serves nothing else.
FILE_NAME = re.compile(r"\A(index\.m3u8|init\.mp4|seg_[0-9]{3,6}\.m4s)\Z")
#: The only part folder names (see ``transcoder.media.planner``).
PART_NAME = re.compile(r"\A(a[0-9]{2,3}|v[0-9]{2,4})\Z")


@dataclass(frozen=True)
class Segment:
    uri: str
    duration: float


@dataclass(frozen=True)
class Variant:
    """What the master playlist says about one rendition."""

    name: str
    width: int
    height: int
    bandwidth: int
    average_bandwidth: int
    codecs: str
    #: The audio rendition group this one plays with, if the video has sound.
    audio: str | None = None


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


def avc_codec(init: bytes) -> str:
    """The RFC 6381 name of the H.264 stream an init segment describes (``avc1.64001e``): the
    profile, constraint flags and level bytes of its ``avcC`` box, as a player reads them."""
    at = init.find(b"avcC")
    if at < 0 or len(init) < at + 8:
        raise ValueError("This init segment holds no H.264 configuration (avcC).")
    return "avc1." + init[at + 5 : at + 8].hex()


def sample_description(init: bytes) -> bytes:
    """The ``stsd`` box of an init segment: what a decoder needs (codec, size, parameter sets).

    Two parts whose descriptions match decode as one stream, even if their init segments
    differ elsewhere (the edit list follows the encoder's delay, which varies with the
    frame timing at a variable frame rate).
    """
    at = init.find(b"stsd")
    if at < 4:
        raise ValueError("This init segment holds no sample description (stsd).")
    size = int.from_bytes(init[at - 4 : at], "big")
    return init[at - 4 : at - 4 + size]


def _box(data: bytes, name: bytes) -> int:
    """Where the payload of the first box called ``name`` starts (after its version and flags)."""
    at = data.find(name)
    if at < 4:
        raise ValueError(f"No {name.decode()} box found.")
    return at + 4


def timescale(init: bytes) -> int:
    """The video track's ticks per second (``mdhd``)."""
    at = _box(init, b"mdhd")
    offset = at + 4 + (16 if init[at] == 1 else 8)
    return int.from_bytes(init[offset : offset + 4], "big")


def decode_time(segment: bytes) -> int:
    """When a segment's first sample is decoded, in the track's ticks (``tfdt``)."""
    at = _box(segment, b"tfdt")
    size = 8 if segment[at] == 1 else 4
    return int.from_bytes(segment[at + 4 : at + 4 + size], "big")


def segment_durations(times: list[int], scale: int, first: float, end: float) -> list[float]:
    """Each segment's length, from its decode time, the part's first picture and its end.

    ffmpeg's own playlist gets these wrong at a variable frame rate (it takes the last
    picture to last as long as the first), and the player places segments by them.
    Within one part every picture is decoded the same delay before it is shown, so
    decode times differ as presentation times do.
    """
    shift = first - times[0] / scale
    starts = [t / scale + shift for t in times]
    return [round(b - a, 6) for a, b in zip(starts, [*starts[1:], end], strict=True)]


def render_master(variants: Iterable[Variant], uri_for: dict[str, str]) -> str:
    """The master playlist listing ``variants`` (lowest first), each at ``uri_for[name]``,
    and each audio group they name at ``uri_for[group]``."""
    variants = list(variants)
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for group in dict.fromkeys(v.audio for v in variants if v.audio):
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{group}",NAME="Sound",DEFAULT=YES,AUTOSELECT=YES,'
            f'CHANNELS="2",URI="{uri_for[group]}"'
        )
    for v in variants:
        audio = f',AUDIO="{v.audio}"' if v.audio else ""
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={v.bandwidth},AVERAGE-BANDWIDTH={v.average_bandwidth},"
            f'RESOLUTION={v.width}x{v.height},CODECS="{v.codecs}",NAME="{v.name}"{audio}'
        )
        lines.append(uri_for[v.name])
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class PartOutput:
    """What one part wrote for one rendition: its folder, its init segment's digest, its segments."""

    folder: str
    init_md5: str
    segments: tuple[tuple[str, float, int], ...]  # (file name, seconds, bytes)


def render_media(outputs: list[PartOutput], complete: bool) -> str:
    """A rendition's playlist from its parts' outputs, in order.

    An init segment is named again only where it differs from the one before, so
    parts encoded alike play as one stream, with no discontinuity.
    """
    longest = max((d for o in outputs for _, d, _ in o.segments), default=SEGMENT_SECONDS)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{max(SEGMENT_SECONDS, math.ceil(longest - 0.001))}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        f"#EXT-X-PLAYLIST-TYPE:{'VOD' if complete else 'EVENT'}",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    previous = None
    for output in outputs:
        if output.init_md5 != previous:
            lines.append(f'#EXT-X-MAP:URI="{output.folder}/{INIT}"')
            previous = output.init_md5
        for name, seconds, _ in output.segments:
            lines += [f"#EXTINF:{seconds:.6f},", f"{output.folder}/{name}"]
    if complete:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
