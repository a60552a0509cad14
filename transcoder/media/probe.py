"""What a source video is, as ffprobe reports it.

``parse_probe`` is pure (ffprobe's JSON in, ``MediaInfo`` out) so every odd case
can be tested from a recorded document; ``probe`` is the one place that runs ffprobe.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, TypedDict, cast

from transcoder.errors import InvalidInput
from transcoder.media import policy
from transcoder.media.frames import Frames, scan

PROBE_TIMEOUT_S = 60


class _ProbedMedia(TypedDict):
    duration: float
    coded_width: int
    coded_height: int
    width: int
    height: int
    rotation: int
    sample_aspect_ratio: str
    fps: float
    has_audio: bool
    video_codec: str
    audio_codec: str | None
    pix_fmt: str
    format_name: str


class MediaInfoDict(_ProbedMedia, total=False):
    """A ``MediaInfo`` as a video's document holds it (its ``source``). The keys here, those
    with a default, may be missing from a video probed by an earlier release."""

    video_stream: int
    audio_stream: int | None
    interlaced: bool
    stream_count: int
    color_transfer: str | None
    color_primaries: str | None
    color_matrix: str | None
    hdr: str | None
    peak_nits: float | None
    dolby_vision: bool
    start_time: float


@dataclass(frozen=True)
class MediaInfo:
    duration: float
    #: Size of the decoded frames, before rotation and pixel aspect.
    coded_width: int
    coded_height: int
    #: Size a player shows: pixel aspect applied, then rotation.
    width: int
    height: int
    rotation: int
    sample_aspect_ratio: str
    fps: float
    has_audio: bool
    video_codec: str
    audio_codec: str | None
    pix_fmt: str
    format_name: str
    #: Absolute indices of the streams we encode: the default (else first) of each kind.
    video_stream: int = 0
    audio_stream: int | None = None
    interlaced: bool = False
    stream_count: int = 1
    #: Colour as ffprobe names it (None when untagged); ``hdr`` is "hlg", "pq" or None.
    color_transfer: str | None = None
    color_primaries: str | None = None
    color_matrix: str | None = None
    hdr: str | None = None
    #: The brightest light the source says it holds (mastering display or content light level).
    peak_nits: float | None = None
    dolby_vision: bool = False
    #: When the file's first stream starts (frame times are counted from here).
    start_time: float = 0.0

    def to_dict(self) -> MediaInfoDict:
        # Every field, by the dataclass's own list (a TypedDict cannot be built from a dict).
        return cast(MediaInfoDict, asdict(self))

    @classmethod
    def from_dict(cls, data: MediaInfoDict) -> MediaInfo:
        return cls(**data)


def probe_args(path: Path | str) -> list[str]:
    """The ffprobe command line: ``ffmpeg.probe``'s options, our allowlists, quiet logging."""
    return [*policy.ffprobe_head(source=path), "-show_format", "-show_streams", "-of", "json",
            policy.local_input(path)]  # fmt: skip


def probe(
    path: Path | str, limits: policy.Limits | None = None, timeout: float = PROBE_TIMEOUT_S
) -> MediaInfo:
    """Describe the media at a local, server-chosen path, refusing what we do not accept."""
    return _describe(path, limits, timeout)[0]


def probe_and_scan(
    path: Path | str, limits: policy.Limits | None = None, timeout: float = PROBE_TIMEOUT_S
) -> tuple[MediaInfo, Frames]:
    """``probe`` and the frame list, reading the file's packets once: a file that states no
    length is scanned to measure it, and that scan is its frame list."""
    media, found = _describe(path, limits, timeout)
    return media, found if found is not None else scan(path, media.video_stream, media.start_time)


def _describe(
    path: Path | str, limits: policy.Limits | None, timeout: float
) -> tuple[MediaInfo, Frames | None]:
    media = parse_probe(run_ffprobe(path, timeout))
    found = None
    if media.duration <= 0:
        # The container states no length (a recording streamed from a browser): count it.
        found = scan(path, media.video_stream, media.start_time)
        media = replace(media, duration=round(found.duration, 6))
    policy.check_codecs(media.video_codec, media.audio_codec)
    policy.check(
        media.duration, media.coded_width, media.coded_height, media.fps, media.stream_count,
        limits or policy.Limits(),
    )  # fmt: skip
    if media.hdr and media.peak_nits is None:
        media = replace(media, peak_nits=first_frame_peak(path, media.video_stream, timeout))
    return media, found


def first_frame_peak(path: Path | str, stream: int, timeout: float = PROBE_TIMEOUT_S) -> float | None:
    """The peak an HDR stream declares in its first frame (HEVC carries its mastering display
    and content light level there, not in the container); None if it declares none."""
    argv = [*policy.ffprobe_head(source=path), "-select_streams", str(stream), "-read_intervals", "%+#1",
            "-show_frames", "-show_entries", "frame=side_data_list", "-of", "json",
            policy.local_input(path)]  # fmt: skip
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        frames = json.loads(done.stdout or b"{}").get("frames") or []
    except (subprocess.TimeoutExpired, ValueError):
        return None
    return _peak_nits(frames[0]) if frames else None


def run_ffprobe(path: Path | str, timeout: float = PROBE_TIMEOUT_S) -> dict[str, Any]:
    """ffprobe's JSON for a local, server-chosen path.

    ffmpeg-python's own ``probe`` has no time limit, and a crafted file can keep
    ffprobe busy, so we run the same command with one.
    """
    try:
        done = subprocess.run(
            probe_args(path), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise InvalidInput("Reading this file took too long; it may be damaged.", code="not_a_video") from exc
    if done.returncode != 0:
        raise refusal(done.stderr.decode("utf-8", "replace"), path)
    try:
        data = json.loads(done.stdout or b"{}")
    except ValueError as exc:
        raise InvalidInput("This file is not a video we can read.", code="not_a_video") from exc
    return data


#: ISO media (MP4, MOV, 3GP) starts with a box: 4 bytes of size, then one of these.
ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot")
#: How Matroska/WebM and AVI files begin.
EBML, RIFF = b"\x1a\x45\xdf\xa3", b"RIFF"


def looks_like_video(head: bytes) -> bool:
    """Whether the first bytes are those of a video container, damaged or not."""
    return (
        head[4:8] in ISO_BOXES or head.startswith(EBML) or (head.startswith(RIFF) and head[8:12] == b"AVI ")
    )


def refusal(stderr: str, path: Path | str) -> InvalidInput:
    """Why ffprobe could not read a file, in words a person can act on."""
    if "not on whitelist" in stderr:
        kind = re.search(r"\[(\w+) @", stderr)
        what = f" ({kind.group(1)})" if kind else ""
        return InvalidInput(
            f"This kind of file{what} is not accepted: upload a video file such as MP4, MOV, MKV or WebM.",
            code="unsupported_format",
        )
    if looks_like_video(first_bytes(path, 12)):
        return InvalidInput(
            "This video is damaged or incomplete (was the upload cut short?).", code="corrupt"
        )
    return InvalidInput("This file is not a video we can read.", code="not_a_video")


def first_bytes(path: Path | str, count: int) -> bytes:
    """The first ``count`` bytes of a local file, or of the object behind a URL we presigned."""
    if isinstance(path, policy.SignedUrl):
        request = urllib.request.Request(str.__str__(path), headers={"Range": f"bytes=0-{count - 1}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 (our own URL)
                return bytes(reply.read(count))
        except OSError:
            return b""
    with open(path, "rb") as fh:
        return fh.read(count)


def parse_probe(data: dict[str, Any]) -> MediaInfo:
    """Turn ffprobe's ``-show_format -show_streams`` JSON into ``MediaInfo``."""
    streams = data.get("streams") or []
    fmt = data.get("format") or {}
    video = _chosen(streams, "video")
    if video is None:
        raise InvalidInput("This file has no video track.", code="no_video_stream")
    audio = _chosen(streams, "audio")

    coded_w, coded_h = int(video.get("width") or 0), int(video.get("height") or 0)
    if coded_w <= 0 or coded_h <= 0:
        raise InvalidInput("The video track has no picture size.", code="not_a_video")
    sar = _ratio(video.get("sample_aspect_ratio")) or Fraction(1)
    rotation = _rotation(video)
    shown_w = max(1, round(coded_w * sar))
    shown_h = coded_h
    if rotation % 180 == 90:
        shown_w, shown_h = shown_h, shown_w

    # Zero when the container states none; ``probe`` then counts it from the packets.
    duration = _float(fmt.get("duration")) or _float(video.get("duration")) or 0.0
    fps_ratio = _ratio(video.get("avg_frame_rate")) or _ratio(video.get("r_frame_rate"))
    return MediaInfo(
        duration=duration,
        coded_width=coded_w,
        coded_height=coded_h,
        width=shown_w,
        height=shown_h,
        rotation=rotation,
        sample_aspect_ratio=f"{sar.numerator}:{sar.denominator}",
        fps=round(float(fps_ratio), 3) if fps_ratio else 0.0,
        has_audio=audio is not None,
        video_codec=str(video.get("codec_name", "unknown")),
        audio_codec=str(audio.get("codec_name")) if audio else None,
        pix_fmt=str(video.get("pix_fmt", "unknown")),
        format_name=str(fmt.get("format_name", "unknown")),
        video_stream=int(video.get("index", 0)),
        audio_stream=int(audio.get("index", 0)) if audio else None,
        interlaced=video.get("field_order") in INTERLACED,
        stream_count=len(streams),
        color_transfer=_tag(video.get("color_transfer")),
        color_primaries=_tag(video.get("color_primaries")),
        color_matrix=_tag(video.get("color_space")),
        hdr={"smpte2084": "pq", "arib-std-b67": "hlg"}.get(video.get("color_transfer") or ""),
        peak_nits=_peak_nits(video),
        start_time=_float(fmt.get("start_time")) or 0.0,
        dolby_vision=any("DOVI" in str(s.get("side_data_type")) for s in video.get("side_data_list") or []),
    )


def _tag(value: object) -> str | None:
    return str(value) if value and value not in ("unknown", "reserved") else None


def _peak_nits(video: dict[str, Any]) -> float | None:
    """Content light level (MaxCLL) if given, else the mastering display's peak."""
    found: dict[str, float] = {}
    for side in video.get("side_data_list") or []:
        if "max_content" in side and (value := _float(side["max_content"])):
            found["content"] = value
        if "max_luminance" in side and (ratio := _ratio(str(side["max_luminance"]))):
            found["display"] = float(ratio)
    return found.get("content") or found.get("display")


INTERLACED = {"tt", "bb", "tb", "bt"}


def _chosen(streams: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    """The stream a player would pick: the one marked default, else the first."""
    # Cover art in audio files and MP4s shows up as a one-picture video stream.
    candidates = [
        s for s in streams
        if s.get("codec_type") == kind and not (s.get("disposition") or {}).get("attached_pic")
    ]  # fmt: skip
    defaults = [s for s in candidates if (s.get("disposition") or {}).get("default")]
    chosen = defaults or candidates
    return chosen[0] if chosen else None


def _rotation(video: dict[str, Any]) -> int:
    for side in video.get("side_data_list") or []:
        if "rotation" in side:
            return int(round(float(side["rotation"]))) % 360
    rotate = (video.get("tags") or {}).get("rotate")
    return int(round(float(rotate))) % 360 if rotate else 0


def _ratio(text: object) -> Fraction | None:
    if not text or not isinstance(text, str):
        return None
    num, _, den = text.partition(":") if ":" in text else text.partition("/")
    try:
        value = Fraction(int(num), int(den or 1))
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def _float(text: object) -> float | None:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if value == value and value > 0 else None
