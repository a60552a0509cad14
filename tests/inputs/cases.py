"""Odd and hostile uploads: how each is made, and exactly what must become of it.

Every case is generated here (ffmpeg's lavfi sources and small byte recipes), so
nothing large is committed. ``python -m tests.inputs.cases`` prints the table of
docs/outputs.md; a test checks that the page's table is this one.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

L = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
SRC = ["-f", "lavfi", "-i"]
TONE = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def ff(out: Path, *args: str) -> Path:
    subprocess.run([*L, *args, str(out)], check=True)
    return out


def pattern(size: str = "320x240", seconds: float = 2, rate: int = 30) -> list[str]:
    return [*SRC, f"testsrc2=size={size}:rate={rate}:duration={seconds}"]


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    make: Callable[[Path], Path]
    #: For refusals: the error code, and the HTTP status at upload.
    code: str | None = None
    status: int = 422
    #: For videos that must come out: the renditions as (name, width, height), and audio.
    ladder: tuple[tuple[str, int, int], ...] = ()
    audio: bool = False
    #: Outputs may be this much shorter or longer than the source (seconds), beyond 2 %.
    slack: float = 0.1
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        if self.code:
            return f"refused: `{self.code}` (HTTP {self.status})"
        sizes = ", ".join(f"{w}x{h}" for _, w, h in self.ladder)
        return f"ready: {sizes}{'' if self.audio else ', no audio'}"


LADDER_720 = (("144p", 256, 144), ("240p", 426, 240), ("360p", 640, 360), ("480p", 854, 480))
PORTRAIT_720 = (("144p", 144, 256), ("240p", 240, 426), ("360p", 360, 640), ("480p", 480, 854))
LADDER_240 = (("144p", 192, 144), ("240p", 320, 240))
LADDER_576_SQUARE = (("144p", 180, 144), ("240p", 300, 240), ("360p", 450, 360), ("480p", 600, 480))


def _mp4(tmp: Path, name: str, *args: str) -> Path:
    return ff(tmp / name, *args)


def _bytes(tmp: Path, name: str, data: bytes) -> Path:
    (tmp / name).write_bytes(data)
    return tmp / name


def marker(width: int, height: int, corner: str) -> list[str]:
    """A filter that blacks out the four corners of a ``width`` x ``height`` picture and puts
    a white square in ``corner`` (tl, tr, bl, br): which way up a picture is, in pixels."""
    box = int(min(width, height) * 0.22)
    at = {"tl": (0, 0), "tr": (width - box, 0), "bl": (0, height - box), "br": (width - box, height - box)}
    boxes = [f"drawbox=x={x}:y={y}:w={box}:h={box}:color=black:t=fill" for x, y in at.values()]
    x, y = at[corner]
    return ["-vf", ",".join([*boxes, f"drawbox=x={x}:y={y}:w={box}:h={box}:color=white:t=fill"])]


#: Where to draw the marker in the stored picture so that it shows top-left once the
#: display matrix is applied. The ``rotate`` tag 90 becomes a display matrix that turns
#: the picture 90° counter-clockwise (ffprobe: rotation 90); 270 turns it clockwise.
STORED_CORNER = {90: "tr", 270: "bl", 180: "br"}


def _rotated(degrees: int) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        base = ff(tmp / "flat.mp4", *pattern("640x360"), *TONE, "-t", "2",
                  *marker(640, 360, STORED_CORNER[degrees]), *H264, "-c:a", "aac")  # fmt: skip
        return ff(
            tmp / f"rot{degrees}.mp4", "-i", str(base), "-c", "copy", "-metadata:s:v:0", f"rotate={degrees}"
        )

    return make


def _interlaced(name: str, size: str, *, seconds: float, rate: int) -> Callable[[Path], Path]:
    """A moving pattern woven into fields, top field first, coded as interlaced H.264."""

    def make(tmp: Path) -> Path:
        return ff(tmp / name, *pattern(size, seconds, rate), "-vf", "interlace", "-c:v", "libx264",
                  "-preset", "ultrafast", "-flags", "+ildct+ilme", "-x264opts", "tff=1")  # fmt: skip

    return make


def _truncated(tmp: Path) -> Path:
    whole = ff(tmp / "whole.mp4", *pattern(), *TONE, "-t", "3", *H264, "-c:a", "aac")
    return _bytes(tmp, "truncated.mp4", whole.read_bytes()[:20_000])


def _corrupted_middle(tmp: Path) -> Path:
    data = bytearray(ff(tmp / "whole.mp4", *pattern(), *TONE, "-t", "3", *H264, "-c:a", "aac").read_bytes())
    data[30_000:32_000] = b"\xde\xad\xbe\xef" * 500
    return _bytes(tmp, "corrupted.mp4", bytes(data))


def _late_audio(tmp: Path) -> Path:
    return ff(tmp / "late.mp4", *pattern(seconds=3), "-itsoffset", "1", *TONE, "-t", "3", *H264,
              "-c:a", "aac", "-map", "0:v", "-map", "1:a")  # fmt: skip


def _two_audio_tracks(tmp: Path) -> Path:
    """A silent first track and a tone second track marked default: the tone must come out."""
    return ff(tmp / "tracks.mkv", *pattern(), *SRC, "anullsrc=r=48000:cl=stereo", *TONE, "-t", "2", *H264,
              "-map", "0:v", "-map", "1:a", "-map", "2:a", "-c:a", "aac",
              "-disposition:a:0", "0", "-disposition:a:1", "default")  # fmt: skip


def _lying_duration(tmp: Path) -> Path:
    """Five hours of frames in Matroska whose header (the segment's Duration and the
    stream's DURATION tag) says one second."""
    path = ff(
        tmp / "lying.mkv", *SRC, "color=black:s=16x16:r=1", "-t", "18000", "-c:v", "libx264", "-crf", "51"
    )
    data = bytearray(path.read_bytes())
    at = data.find(b"\x44\x89\x88")  # Duration, an 8-byte float in milliseconds
    data[at + 3 : at + 11] = struct.pack(">d", 1000.0)
    at = data.find(b"05:00:00.000000000")
    data[at : at + 8] = b"00:00:01"
    path.write_bytes(bytes(data))
    return path


def _many_streams(tmp: Path) -> Path:
    maps = [arg for _ in range(20) for arg in ("-map", "1:a")]
    return ff(
        tmp / "streams.mkv", *pattern(seconds=1), *TONE, "-t", "1", *H264, "-map", "0:v", *maps, "-c:a", "aac"
    )


def _hls_playlist(target: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        text = f"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.0,\n{target}\n#EXT-X-ENDLIST\n"
        return _bytes(tmp, "playlist.mp4", text.encode())

    return make


HDR_TRANSFER = {"hlg": "arib-std-b67", "pq": "smpte2084"}
#: x265 options of a PQ source that declares its mastering display (1,000 nits) and content light.
HDR10_METADATA = (":master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"
                  ":max-cll=1000,400")  # fmt: skip


def hdr_from(sdr: Path, out: Path, kind: str, extra_x265: str = "") -> Path:
    """``sdr`` (BT.709) as a phone would record it in HDR: SDR white at 203 nits (BT.2408; for
    HLG that is its 75 % reference level), BT.2020 primaries, 10-bit HEVC, tagged."""
    transfer = HDR_TRANSFER[kind]
    params = f"log-level=none:colorprim=bt2020:transfer={transfer}:colormatrix=bt2020nc{extra_x265}"
    return ff(out, "-i", str(sdr), "-vf",
              f"zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt2020:t={transfer}:m=bt2020nc:r=tv:npl=203,"
              "format=yuv420p10le", "-c:v", "libx265", "-preset", "ultrafast", "-crf", "12",
              "-x265-params", params, "-tag:v", "hvc1")  # fmt: skip


BT709 = ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]


def _hdr(kind: str, rotate: int = 0) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        marks = marker(1280, 720, STORED_CORNER[rotate]) if rotate else []
        sdr = ff(tmp / "sdr.mp4", *pattern("1280x720", 2, 25), *marks, *H264, *BT709)
        hdr = hdr_from(sdr, tmp / f"{kind}.mp4", kind, HDR10_METADATA if kind == "pq" else "")
        if not rotate:
            return hdr
        return ff(
            tmp / f"{kind}-rot.mp4", "-i", str(hdr), "-c", "copy", "-metadata:s:v:0", f"rotate={rotate}"
        )

    return make


def _bt601(tmp: Path) -> Path:
    """A PAL camera's picture: RGB put into YUV with the BT.601 matrix, and tagged so."""
    return ff(tmp / "pal.mp4", *pattern("720x576", 2, 25), "-vf",
              "format=rgb24,scale=out_color_matrix=bt601:out_range=tv,format=yuv420p", *H264,
              "-color_primaries", "bt470bg", "-color_trc", "bt709", "-colorspace", "bt470bg")  # fmt: skip


CANARY = "http://127.0.0.1:{port}/x.ts"

CASES: tuple[Case, ...] = (
    # --- videos that must come out right ------------------------------------------------
    Case(
        "landscape_720p",
        "1280x720 H.264 + AAC",
        lambda t: _mp4(t, "a.mp4", *pattern("1280x720"), *TONE, "-t", "2", *H264, "-c:a", "aac"),
        ladder=LADDER_720,
        audio=True,
    ),
    Case(
        "portrait_720x1280",
        "a phone held upright (a marker top-left)",
        lambda t: _mp4(
            t, "p.mp4", *pattern("720x1280"), *TONE, "-t", "2", *marker(720, 1280, "tl"), *H264, "-c:a", "aac"
        ),  # fmt: skip
        ladder=PORTRAIT_720,
        audio=True,
        extra={"marker": True},
    ),
    Case(
        "rotated_90",
        "640x360 with a 90° display matrix (phone video), a marker that must show top-left",
        _rotated(90),
        ladder=(("144p", 144, 256), ("240p", 240, 426), ("360p", 360, 640)),
        audio=True,
        extra={"marker": True},
    ),
    Case(
        "rotated_270",
        "640x360 with a 270° display matrix, a marker that must show top-left",
        _rotated(270),
        ladder=(("144p", 144, 256), ("240p", 240, 426), ("360p", 360, 640)),
        audio=True,
        extra={"marker": True},
    ),
    Case(
        "rotated_180",
        "640x360 upside down, a marker that must show top-left",
        _rotated(180),
        ladder=(("144p", 256, 144), ("240p", 426, 240), ("360p", 640, 360)),
        audio=True,
        extra={"marker": True},
    ),
    Case(
        "odd_853x479",
        "odd width and height, 4:4:4",
        lambda t: _mp4(
            t,
            "odd.mp4",
            *pattern("853x479", 1),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv444p",
        ),
        ladder=(("144p", 256, 144), ("240p", 428, 240), ("360p", 642, 360)),
    ),
    Case(
        "anamorphic_720x576",
        "PAL widescreen: 720x576 with 16:11 pixels",
        lambda t: _mp4(t, "sar.mp4", *pattern("720x576", 1), "-vf", "setsar=16/11", *H264),
        ladder=(("144p", 262, 144), ("240p", 436, 240), ("360p", 654, 360), ("480p", 872, 480)),
    ),
    Case(
        "ten_bit",
        "H.264 High 10, yuv420p10le",
        lambda t: _mp4(
            t, "10bit.mp4", *pattern(), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le"
        ),
        ladder=LADDER_240,
    ),
    Case(
        "yuv444_hevc",
        "HEVC 4:4:4 in MP4",
        lambda t: _mp4(
            t,
            "hevc444.mp4",
            *pattern(),
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv444p",
            "-x265-params",
            "log-level=none",
            "-tag:v",
            "hvc1",
        ),
        ladder=LADDER_240,
    ),
    Case(
        "hdr_hlg",
        "1280x720 10-bit HEVC, BT.2020 HLG (an iPhone's default)",
        _hdr("hlg"),
        ladder=LADDER_720,
    ),
    Case(
        "hdr_pq",
        "1280x720 10-bit HEVC, HDR10 (PQ) with mastering display and content light levels",
        _hdr("pq"),
        ladder=LADDER_720,
    ),
    Case(
        "hdr_hlg_upright",
        "HLG from a phone held upright (90° display matrix), a marker that must show top-left",
        _hdr("hlg", rotate=90),
        ladder=PORTRAIT_720,
        extra={"marker": True},
    ),
    Case(
        "sd_bt601",
        "720x576 tagged BT.601 (a PAL camera)",
        _bt601,
        ladder=LADDER_576_SQUARE,
    ),
    Case(
        "interlaced_ntsc",
        "720x480 interlaced (NTSC), top field first, moving: combing a 480p rendition would keep",
        _interlaced("ntsc.mp4", "720x480", seconds=2, rate=30),
        ladder=(("144p", 216, 144), ("240p", 360, 240), ("360p", 540, 360), ("480p", 720, 480)),
        extra={"combed": True},
    ),
    Case(
        "interlaced",
        "720x576 interlaced, top field first",
        _interlaced("i.mp4", "720x576", seconds=1, rate=25),
        ladder=LADDER_576_SQUARE,
    ),
    Case(
        "variable_frame_rate",
        "frames at 30 fps, then 10 fps",
        lambda t: _mp4(
            t,
            "vfr.mp4",
            *pattern(seconds=4),
            *TONE,
            "-t",
            "4",
            "-vf",
            "setpts='if(lt(N,30),N/30,1+(N-30)/10)/TB'",
            "-fps_mode",
            "vfr",
            *H264,
            "-c:a",
            "aac",
        ),
        ladder=LADDER_240,
        audio=True,
        slack=0.5,
    ),
    Case("no_audio", "video only", lambda t: _mp4(t, "silent.mp4", *pattern(), *H264), ladder=LADDER_240),
    Case(
        "two_audio_tracks",
        "silent first track, default second track",
        _two_audio_tracks,
        ladder=LADDER_240,
        audio=True,
        extra={"loud": True},
    ),
    Case(
        "late_audio",
        "sound starts 1 s after the picture",
        _late_audio,
        ladder=LADDER_240,
        audio=True,
        slack=1.1,
    ),
    Case(
        "hevc_mkv",
        "HEVC in Matroska",
        lambda t: _mp4(
            t,
            "hevc.mkv",
            *pattern(),
            *TONE,
            "-t",
            "2",
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=none",
            "-c:a",
            "aac",
        ),
        ladder=LADDER_240,
        audio=True,
    ),
    Case(
        "vp9_webm",
        "VP9 + Opus in WebM",
        lambda t: _mp4(
            t,
            "v.webm",
            *pattern(),
            *TONE,
            "-t",
            "2",
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-c:a",
            "libopus",
        ),
        ladder=LADDER_240,
        audio=True,
    ),
    Case(
        "av1_mkv",
        "AV1 in Matroska",
        lambda t: _mp4(
            t, "av1.mkv", *pattern(seconds=1), "-c:v", "libaom-av1", "-cpu-used", "8", "-crf", "50"
        ),
        ladder=LADDER_240,
    ),
    Case(
        "prores_mov",
        "ProRes + PCM in QuickTime (camera master)",
        lambda t: _mp4(
            t,
            "pr.mov",
            *pattern(seconds=1),
            *TONE,
            "-t",
            "1",
            "-c:v",
            "prores_ks",
            "-profile:v",
            "0",
            "-c:a",
            "pcm_s16le",
        ),
        ladder=LADDER_240,
        audio=True,
    ),
    Case(
        "mpeg4_part2_avi",
        "MPEG-4 Part 2 + MP3 in AVI (old camera)",
        lambda t: _mp4(t, "old.avi", *pattern(), *TONE, "-t", "2", "-c:v", "mpeg4", "-c:a", "libmp3lame"),
        ladder=LADDER_240,
        audio=True,
    ),
    Case(
        "mjpeg_avi",
        "Motion JPEG in AVI (webcam)",
        lambda t: _mp4(t, "cam.avi", *pattern(), "-c:v", "mjpeg", "-q:v", "5"),
        ladder=LADDER_240,
    ),
    Case(
        "mpegts",
        "H.264 + AAC in MPEG-TS (broadcast, screen recorder)",
        lambda t: _mp4(t, "t.ts", *pattern(), *TONE, "-t", "2", *H264, "-c:a", "aac"),
        ladder=LADDER_240,
        audio=True,
    ),
    Case(
        "faststart",
        "MP4 with its index at the start",
        lambda t: _mp4(t, "fast.mp4", *pattern(), *H264, "-movflags", "+faststart"),
        ladder=LADDER_240,
    ),
    Case(
        "one_frame",
        "a single frame",
        lambda t: _mp4(t, "one.mp4", *pattern(seconds=1), "-frames:v", "1", *H264),
        ladder=LADDER_240,
        slack=0.1,
    ),
    Case(
        "under_one_second",
        "0.4 s with sound",
        lambda t: _mp4(t, "short.mp4", *pattern(seconds=0.4), *TONE, "-t", "0.4", *H264, "-c:a", "aac"),
        ladder=LADDER_240,
        audio=True,
        slack=0.1,
    ),
    Case(
        "tiny_120x90",
        "smaller than the lowest rendition",
        lambda t: _mp4(t, "tiny.mp4", *pattern("120x90", 1), *H264),
        ladder=(("144p", 120, 90),),
    ),
    Case(
        "corrupted_middle",
        "2 kB overwritten in the middle",
        _corrupted_middle,
        ladder=LADDER_240,
        audio=True,
        slack=0.5,
    ),
    # --- uploads that must be refused ---------------------------------------------------
    Case("empty_file", "zero bytes", lambda t: _bytes(t, "empty.mp4", b""), code="empty_file", status=400),
    Case(
        "text_named_mp4",
        "a text file named .mp4",
        lambda t: _bytes(t, "x.mp4", b"hello, not a video\n" * 50),
        code="not_a_video",
    ),
    Case("truncated_mp4", "the first 20 kB of an MP4 (index missing)", _truncated, code="corrupt"),
    Case(
        "hls_file_read",
        "HLS playlist named .mp4 pointing at file:///etc/passwd",
        _hls_playlist("file:///etc/passwd"),
        code="unsupported_format",
    ),
    Case(
        "hls_ssrf",
        "HLS playlist named .mp4 pointing at an HTTP listener",
        _hls_playlist(CANARY),
        code="unsupported_format",
    ),
    Case(
        "concat_script",
        "ffconcat script reading another file",
        lambda t: _bytes(t, "concat.mp4", b"ffconcat version 1.0\nfile ../../../etc/passwd\nfile source\n"),
        code="unsupported_format",
    ),
    Case(
        "png_image",
        "a still PNG image",
        lambda t: _mp4(t, "still.png", *SRC, "color=c=blue:s=320x240", "-frames:v", "1"),
        code="unsupported_format",
    ),
    Case(
        "frame_10000x10000",
        "one 10000x10000 frame (MJPEG in Matroska)",
        lambda t: _mp4(t, "huge.mkv", *SRC, "color=c=blue:s=10000x10000", "-frames:v", "1", "-c:v", "mjpeg"),
        code="too_many_pixels",
    ),
    Case(
        "ten_hours_16x16",
        "10 hours of 16x16 at 1 fps (under 1 MB)",
        lambda t: _mp4(
            t, "long.mp4", *SRC, "color=black:s=16x16:r=1", "-t", "36000", "-c:v", "libx264", "-crf", "51"
        ),
        code="too_long",
    ),
    Case(
        "lying_duration",
        "5 hours of frames whose header claims 1 s (Matroska)",
        _lying_duration,
        code="too_long",
    ),
    Case(
        "audio_only",
        "AAC sound, no picture",
        lambda t: _mp4(t, "a.m4a", *TONE, "-t", "1", "-c:a", "aac"),
        code="no_video_stream",
    ),
    Case("wav_audio", "a WAV file", lambda t: _mp4(t, "a.wav", *TONE, "-t", "1"), code="unsupported_format"),
    Case("many_streams", "21 streams in one Matroska file", _many_streams, code="too_many_streams"),
    Case(
        "frame_rate_300",
        "300 frames per second",
        lambda t: _mp4(t, "fast.mp4", *pattern("64x64", 1, 300), *H264),
        code="frame_rate_too_high",
    ),
    Case(
        "unsupported_codec",
        "Ut Video (a lossless editing codec) in Matroska",
        lambda t: _mp4(t, "ut.mkv", *pattern("64x64", 1), "-c:v", "utvideo"),
        code="unsupported_codec",
    ),
)


def table() -> str:
    rows = ["| case | upload | outcome |", "| --- | --- | --- |"]
    rows += [f"| `{c.name}` | {c.what} | {c.outcome} |" for c in CASES]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(table(), end="")
