"""Chunked encodes join without a seam: every frame once, in order, the same pictures as a
one-pass encode around each boundary, and the sound in sync to the end.

Each clip is uploaded through the API and encoded by the real workers in time
chunks; the joined MP4 of every rendition is then measured with ffmpeg.
"""

import functools
import json
import subprocess
from pathlib import Path

import pytest
import requests

from tests.support import reference
from tests.support.requests_to_api import upload, wait_terminal
from transcoder.media.ladder import Rendition, renditions_for
from transcoder.media.probe import probe

#: A white frame and a 1 kHz beep at the start of every second, on a moving background.
SYNC_VIDEO = ("testsrc2=size=640x360:rate={rate}:duration={seconds}[bg];"
              "color=white:size=640x360:rate={rate}:duration={seconds}[flash];"
              "[bg][flash]overlay=enable='lt(mod(t\\,1)\\,0.03)'")  # fmt: skip
SYNC_AUDIO = "aevalsrc='if(lt(mod(t\\,1)\\,0.05)\\,sin(2*PI*1000*t)\\,0)':s=48000:d={seconds}"
#: One AAC frame at 48 kHz: the most the sound's length may differ from the picture's.
AAC_FRAME_S = 1024 / 48000


def make(
    path: Path, seconds: int = 30, rate: str = "30", extra: list[str] | None = None, audio_at: float = 0
):
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-y",
            "-f", "lavfi", "-i", SYNC_VIDEO.format(rate=rate, seconds=seconds)]  # fmt: skip
    argv += ["-itsoffset", str(audio_at)] if audio_at else []
    argv += ["-f", "lavfi", "-i", SYNC_AUDIO.format(seconds=seconds - audio_at)]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-g", "250", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    subprocess.run([*argv, *(extra or []), str(path)], check=True)
    return path


def packets(path: Path, stream: str) -> list[float]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", "packet=pts_time",
         "-of", "csv=p=0", str(path)], check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return [float(x) for x in out.split()]


def spans(path: Path) -> dict[str, tuple[float, float]]:
    """Where each stream starts and ends."""
    argv = ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,start_time,duration", "-of", "json",
            str(path)]  # fmt: skip
    out = subprocess.run(argv, check=True, capture_output=True).stdout
    found = {}
    for s in json.loads(out)["streams"]:
        start = float(s["start_time"])
        found[s["codec_type"]] = (round(start, 3), round(start + float(s["duration"]), 3))
    return found


@functools.cache
def flashes(path: Path) -> list[float]:
    """Times of the white frames (read once per file: each check asks again)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-f", "lavfi", f"movie={path},signalstats", "-show_entries",
         "frame=pts_time:frame_tags=lavfi.signalstats.YAVG", "-of", "csv=p=0"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    rows = [line.split(",") for line in out.split()]
    return [float(t) for t, yavg in rows if float(yavg) > 200]


@functools.cache
def beeps(path: Path) -> list[float]:
    """Times the beeps start (where silence ends; read once per file)."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "info", "-i", str(path), "-af", "silencedetect=n=-40dB:d=0.2",
         "-f", "null", "-"], capture_output=True, text=True,
    ).stderr  # fmt: skip
    return [
        float(line.split("silence_end: ")[1].split()[0]) for line in out.splitlines() if "silence_end" in line
    ]


def psnr_per_frame(encoded: Path, source: Path, rendition: Rendition) -> list[float]:
    graph = (f"[0:v]setpts=PTS-STARTPTS[a];[1:v]scale={rendition.width}:{rendition.height},"
             "setpts=PTS-STARTPTS[b];[a][b]psnr=stats_file=-")  # fmt: skip
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(encoded), "-i", str(source),
            "-lavfi", graph, "-f", "null", "-"]  # fmt: skip
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    values = [float(line.split("psnr_y:")[1].split()[0].replace("inf", "99")) for line in out.splitlines()]
    return values


def encoded(system: str, path: Path, tmp_path: Path) -> tuple[dict, dict[str, Path]]:
    created = upload(system, path)
    assert created.status_code == 201, created.text
    video = wait_terminal(system, created.json()["id"], timeout=300)
    assert video["state"] == "ready", video
    out = {}
    for rendition in video["renditions"]:
        target = tmp_path / f"{path.stem}-{rendition['name']}.mp4"
        target.write_bytes(requests.get(system + rendition["url"], timeout=60).content)
        out[rendition["name"]] = target
    return video, out


def seams(system: str, video_id: str) -> list[int]:
    """Frame numbers where a part starts (the first part's excepted)."""
    parts = requests.get(f"{system}/api/videos/{video_id}/parts", timeout=10).json()["parts"]
    return [p["first"] for p in parts if p["kind"] == "video" and p["first"] > 0]


def check_frames(source_path: Path, outputs: dict[str, Path]) -> None:
    expected = packets(source_path, "v:0")
    for name, path in outputs.items():
        times = packets(path, "v:0")
        assert len(times) == len(expected), f"{name}: {len(times)} frames, the source has {len(expected)}"
        shown = sorted(times)
        assert all(b > a for a, b in zip(shown, shown[1:], strict=False)), f"{name}: a timestamp repeats"
        # The sound ends with the picture, within one AAC frame, and stays in sync to the end.
        out = spans(path)
        assert abs(out["audio"][1] - out["video"][1]) <= AAC_FRAME_S + 0.001, (name, out)
        assert abs(sync_offset(path) - sync_offset(source_path)) <= 0.040, name


def sync_offset(path: Path) -> float:
    """How far the last beep is from the last flash."""
    return beeps(path)[-1] - flashes(path)[-1]


@pytest.fixture(scope="module")
def sync_clip(tmp_path_factory) -> Path:
    return make(tmp_path_factory.mktemp("seams") / "sync.mp4")


def test_chunks_join_frame_exact_with_the_sound_in_sync(system, sync_clip, tmp_path, artifacts_dir):
    video, outputs = encoded(system, sync_clip, tmp_path)
    boundaries = seams(system, video["id"])
    assert len(boundaries) >= 3, "a 30 s video is cut into several parts"
    check_frames(sync_clip, outputs)

    media = probe(sync_clip)
    report = [
        "| rendition | seam frames | PSNR-Y chunked | PSNR-Y one pass | end offset |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, path in outputs.items():
        rendition = next(r for r in renditions_for(media.width, media.height) if r.name == name)
        one_pass = tmp_path / f"one-pass-{name}.mp4"
        subprocess.run(
            reference.one_pass(sync_clip, one_pass, rendition, media), check=True, stdout=subprocess.DEVNULL
        )
        chunked, single = (
            psnr_per_frame(path, sync_clip, rendition),
            psnr_per_frame(one_pass, sync_clip, rendition),
        )
        near = sorted({i for b in boundaries for i in range(b - 3, b + 3) if 0 <= i < len(chunked)})
        mean_chunked = sum(chunked[i] for i in near) / len(near)
        mean_single = sum(single[i] for i in near) / len(near)
        # A frame lost or doubled at a seam shifts every later picture: PSNR would drop by 10 dB or more.
        assert mean_chunked >= mean_single - 0.5, (name, mean_chunked, mean_single)

        flash, beep = flashes(path), beeps(path)
        assert len(flash) == len(beep) == 30, (name, len(flash), len(beep))
        offset, source_offset = sync_offset(path), sync_offset(sync_clip)
        report.append(f"| {name} | {len(near)} | {mean_chunked:.2f} dB | {mean_single:.2f} dB | "
                      f"{(offset - source_offset) * 1000:+.1f} ms |")  # fmt: skip
    (artifacts_dir / "seams.md").write_text("\n".join(report) + "\n")


@pytest.mark.parametrize("kind", ["vfr", "late_audio", "rotated"])
def test_odd_sources_join_frame_exact(system, tmp_path_factory, tmp_path, kind):
    folder = tmp_path_factory.mktemp(kind)
    if kind == "vfr":
        # Every fifth frame dropped: frames 33 ms and 67 ms apart.
        clip = make(
            folder / "vfr.mp4",
            seconds=20,
            extra=["-vf", "select='not(eq(mod(n\\,5)\\,4))'", "-fps_mode", "vfr"],
        )
    elif kind == "late_audio":
        clip = make(folder / "late.mp4", seconds=14, audio_at=0.5)
    else:
        upright = make(folder / "upright.mp4", seconds=14)
        clip = folder / "rotated.mp4"  # a phone held sideways: the same pictures, a display matrix
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(upright), "-c", "copy",
                        "-metadata:s:v:0", "rotate=90", str(clip)], check=True)  # fmt: skip
    video, outputs = encoded(system, clip, tmp_path)
    assert len(seams(system, video["id"])) >= 1
    check_frames(clip, outputs)
    if kind == "rotated":
        assert (video["renditions"][0]["width"], video["renditions"][0]["height"]) == (144, 256)
