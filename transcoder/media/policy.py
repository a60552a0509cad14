"""What we accept: containers, codecs and limits, checked before any work is queued.

ffmpeg can open far more than videos: playlists that fetch other files or URLs,
concat scripts, image sequences. We name the few demuxers and codecs real uploads
use, refuse the rest with a reason a person understands, and give ffmpeg the same
allowlists and caps when it decodes, so a file that lied to the probe is still bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from transcoder.errors import InvalidInput

#: Demuxers ffprobe and ffmpeg may use (matched against each demuxer's names).
FORMATS = ("mov", "matroska", "avi", "mpegts", "flv", "ogg", "mxf", "mpeg")
#: Only local files; nothing an input can name may open a network connection or another protocol.
PROTOCOLS = "file"


class SignedUrl(str):
    """A URL we presigned for an object of our own bucket: a resumable upload staged in S3,
    probed where it lies instead of after a download (``transcoder.uploads.s3_staging``).

    The one input ffprobe may read over the network. Only our code makes one, from a key
    it chose, so the protocol allowlist widens to http(s) for this input alone; the
    demuxer allowlist stays, so nothing inside the file can name another URL.
    """

    def __new__(cls, url: str) -> SignedUrl:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"Not an http(s) URL: {url[:40]!r}")
        return super().__new__(cls, url)


def protocols_for(source: Path | str | None) -> str:
    """The protocols an input may use: local files, or http(s) for a URL we presigned."""
    if isinstance(source, SignedUrl):
        return "https,tls,tcp" if source.startswith("https://") else "http,tcp"
    return PROTOCOLS


VIDEO_CODECS = frozenset(
    {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mpeg2video", "mpeg1video", "prores", "mjpeg",
     "theora", "vc1", "wmv3", "dnxhd", "ffv1", "h263", "msmpeg4v3", "flv1", "dvvideo", "rawvideo"}
)  # fmt: skip
AUDIO_CODECS = frozenset(
    {"aac", "mp3", "mp2", "mp1", "opus", "vorbis", "ac3", "eac3", "flac", "alac", "amr_nb", "amr_wb",
     "wmav2", "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s24be", "pcm_s32le", "pcm_f32le", "pcm_u8",
     "pcm_alaw", "pcm_mulaw", "dts", "truehd"}
)  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """Caps on what one upload may ask of us; each is a TRANSCODER_* setting."""

    max_duration: float = 4 * 3600
    max_pixels: int = 4096 * 2304
    max_fps: float = 240.0
    max_streams: int = 16
    #: CPU seconds one ffmpeg run may use (ffmpeg's -timelimit).
    ffmpeg_cpu_seconds: int = 6 * 3600
    #: Wall seconds one ffmpeg run may take before it is killed.
    ffmpeg_wall_seconds: float = 3 * 3600


DEFAULT_LIMITS = Limits()


def local_input(path: Path | str) -> str:
    """How we name a file to ffmpeg: absolute, behind ``file:``, so no name reads as an option or protocol
    (a ``SignedUrl`` stays itself: an http(s) URL never reads as an option)."""
    if isinstance(path, SignedUrl):
        return str.__str__(path)
    return "file:" + str(Path(path).resolve())


def input_options(limits: Limits) -> dict[str, object]:
    """ffmpeg input options that keep decoding within the allowlists and caps."""
    return {
        "protocol_whitelist": PROTOCOLS,
        "format_whitelist": ",".join(FORMATS),
        "max_pixels": limits.max_pixels,
    }


def command_head(limits: Limits) -> list[str]:
    """Global options of every ffmpeg we run: no stdin, quiet, a CPU-time cap, overwrite, and
    progress on stdout, which shows it is alive (a silent one is killed as stalled)."""
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
            "-timelimit", str(limits.ffmpeg_cpu_seconds), "-y",
            "-nostats", "-progress", "pipe:1"]  # fmt: skip


def ffprobe_head(formats: str = "", source: Path | str | None = None) -> list[str]:
    """The start of every ffprobe we run: quiet, local files only (or http(s) when ``source``
    is a ``SignedUrl``), and only these demuxers (by default the ones we accept from uploads)."""
    return ["ffprobe", "-v", "error", "-protocol_whitelist", protocols_for(source),
            "-format_whitelist", formats or ",".join(FORMATS)]  # fmt: skip


def check(media_duration: float, width: int, height: int, fps: float, streams: int, limits: Limits) -> None:
    """Refuse media over the limits, before any encode is queued."""
    if streams > limits.max_streams:
        raise InvalidInput(
            f"This file has {streams} streams; we accept at most {limits.max_streams}.",
            code="too_many_streams",
        )
    if width * height > limits.max_pixels:
        raise InvalidInput(
            f"The picture is {width}x{height}, larger than we accept "
            f"({limits.max_pixels:,} pixels, about 4K).",
            code="too_many_pixels",
        )
    check_duration(media_duration, limits)
    if fps > limits.max_fps:
        raise InvalidInput(
            f"The video has {fps:g} frames per second; we accept at most {limits.max_fps:g}.",
            code="frame_rate_too_high",
        )


def check_duration(seconds: float, limits: Limits) -> None:
    """Refuse a video longer than we accept: the length its header claims, and then the
    length its frames measure (a header can claim 1 s over five hours of frames)."""
    if seconds > limits.max_duration:
        raise InvalidInput(
            f"The video is {_clock(seconds)} long; we accept at most {_clock(limits.max_duration)}.",
            code="too_long",
        )


def check_codecs(video_codec: str, audio_codec: str | None) -> None:
    if video_codec not in VIDEO_CODECS:
        raise InvalidInput(
            f"The video is encoded as {video_codec!r}, which we do not accept.", code="unsupported_codec"
        )
    if audio_codec is not None and audio_codec not in AUDIO_CODECS:
        raise InvalidInput(
            f"The sound is encoded as {audio_codec!r}, which we do not accept.", code="unsupported_codec"
        )


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
