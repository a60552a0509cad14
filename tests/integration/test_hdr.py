"""HDR phone videos come out as SDR BT.709 that looks like the scene; BT.601 comes out as BT.709.

The scene is a moving lavfi pattern in SDR BT.709. HLG and PQ versions of it are made the
way BT.2408 places SDR in HDR (SDR white at 203 nits, HLG's 75 % signal), encoded as 10-bit
HEVC, and uploaded beside the SDR original: every rendition and the poster of each HDR
upload must match the SDR upload's within 15 % in brightness and saturation, with an SSIM
of at least 0.90. Figures go to tests/artifacts/hdr.md.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import requests

from tests.inputs.cases import STORED_CORNER, hdr_from, marker
from tests.inputs.test_inputs import corner_lumas
from tests.support.clips import ffprobe_json
from tests.support.requests_to_api import upload, wait_terminal

L = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
SCENE = ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25:duration=3"]
TOLERANCE = 0.15
MIN_SSIM = 0.90
FIGURES: list[str] = []
#: The ramp's brightest light, in multiples of reference white (203 nits): 1,000 nits.
RAMP_TOP = 4.93


def run(*args: str) -> None:
    subprocess.run([*L, *args], check=True)


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("hdr")
    sdr = tmp / "sdr.mp4"
    run(*SCENE, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-pix_fmt", "yuv420p",
        "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", str(sdr))  # fmt: skip
    marked = tmp / "marked.mp4"
    run(*SCENE, *marker(1280, 720, STORED_CORNER[90]), "-c:v", "libx264", "-preset", "ultrafast",
        "-crf", "12",
        "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", str(marked))  # fmt: skip
    rotated = tmp / "hlg-upright.mp4"
    run("-i", str(hdr_from(marked, tmp / "hlg-marked.mp4", "hlg")), "-c", "copy",
        "-metadata:s:v:0", "rotate=90", str(rotated))  # fmt: skip
    pal = tmp / "pal.mp4"
    run("-f", "lavfi", "-i", "testsrc2=size=720x576:rate=25:duration=3", "-vf",
        "format=rgb24,scale=out_color_matrix=bt601:out_range=tv,format=yuv420p", "-c:v", "libx264",
        "-preset", "ultrafast", "-crf", "12", "-color_primaries", "bt470bg", "-color_trc", "bt709",
        "-colorspace", "bt470bg", str(pal))  # fmt: skip
    # Light rising left to right from black to 4.93 times reference white (1,000 nits), in PQ.
    ramp = tmp / "ramp.mp4"
    run("-f", "lavfi", "-i", f"color=black:s=1280x720:d=1,format=gbrpf32le,geq=r='X/W*{RAMP_TOP}':"
        f"g='X/W*{RAMP_TOP}':b='X/W*{RAMP_TOP}',setparams=color_primaries=bt709:color_trc=linear:colorspace=gbr,"
        "zscale=p=2020:t=smpte2084:m=2020_ncl:r=tv:npl=203,format=yuv420p10le", "-c:v", "libx265",
        "-preset", "ultrafast", "-crf", "12", "-x265-params",
        "log-level=none:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:max-cll=1000,400",
        "-tag:v", "hvc1", str(ramp))  # fmt: skip
    return {
        "ramp": ramp,
        "sdr": sdr,
        "hlg": hdr_from(sdr, tmp / "hlg.mp4", "hlg"),
        "pq": hdr_from(
            sdr,
            tmp / "pq.mp4",
            "pq",
            ":master-display=G(13250,34500)B(7500,3000)R(34000,16000)"
            "WP(15635,16450)L(10000000,1):max-cll=1000,400",
        ),  # fmt: skip
        "hlg_upright": rotated,
        "pal": pal,
    }


@pytest.fixture(scope="module")
def videos(system, sources) -> dict[str, dict]:
    ids = {name: upload(system, path).json()["id"] for name, path in sources.items()}
    return {name: wait_terminal(system, video_id) for name, video_id in ids.items()}


def fetch(system: str, url: str, path: Path) -> Path:
    path.write_bytes(requests.get(system + url, timeout=30).content)
    return path


def probe_stream(path: Path) -> dict:
    return ffprobe_json(path, "-select_streams", "v:0", "-show_streams")["streams"][0]


def brightness_and_saturation(path: Path) -> tuple[float, float]:
    """Mean luma and saturation over every frame, in limited-range 8-bit terms (JPEGs converted)."""
    err = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-i", str(path), "-vf",
         "scale=out_range=tv,format=yuv420p,signalstats,metadata=print:file=-", "-f", "null", "-"],
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    ys = [float(v) for v in re.findall(r"YAVG=([\d.]+)", err)]
    sats = [float(v) for v in re.findall(r"SATAVG=([\d.]+)", err)]
    return sum(ys) / len(ys), sum(sats) / len(sats)


def ssim(a: Path, b: Path) -> dict[str, float]:
    argv = ["ffmpeg", "-nostdin", "-hide_banner", "-i", str(a), "-i", str(b), "-lavfi", "[0:v][1:v]ssim",
            "-f", "null", "-"]  # fmt: skip
    err = subprocess.run(argv, capture_output=True, text=True).stderr
    return {k: float(v) for k, v in re.findall(r"(Y|U|V|All):([\d.]+)", err.splitlines()[-1])}


def assert_bt709_sdr(path: Path) -> None:
    stream = probe_stream(path)
    assert stream["pix_fmt"] == "yuv420p"
    assert (stream.get("color_primaries"), stream.get("color_transfer"), stream.get("color_space")) == (
        "bt709", "bt709", "bt709",
    )  # fmt: skip


def assert_close(name: str, got: tuple[float, float], want: tuple[float, float]) -> None:
    for what, g, w in zip(("brightness", "saturation"), got, want, strict=True):
        assert abs(g - w) <= TOLERANCE * w, f"{name}: {what} {g:.1f} against {w:.1f}"


@pytest.mark.parametrize("kind", ["hlg", "pq"])
def test_hdr_renditions_and_poster_look_like_the_sdr_scene(kind, system, videos, tmp_path):
    hdr, sdr = videos[kind], videos["sdr"]
    assert hdr["state"] == "ready", hdr["error"]
    assert hdr["source"]["hdr"] == kind and sdr["source"]["hdr"] is None
    assert hdr["source"]["color"]["primaries"] == "bt2020"
    if kind == "pq":
        assert hdr["source"]["color"]["peak_nits"] == 1000
    assert [r["name"] for r in hdr["renditions"]] == [r["name"] for r in sdr["renditions"]]
    for ours, ref in zip(hdr["renditions"], sdr["renditions"], strict=True):
        got = fetch(system, ours["url"], tmp_path / f"{kind}-{ours['name']}.mp4")
        want = fetch(system, ref["url"], tmp_path / f"sdr-{ref['name']}.mp4")
        assert_bt709_sdr(got)
        measured, reference, similarity = (
            brightness_and_saturation(got),
            brightness_and_saturation(want),
            ssim(got, want),
        )
        FIGURES.append(f"| {kind} | {ours['name']} | {measured[0]:.1f} / {reference[0]:.1f} | "
                       f"{measured[1]:.1f} / {reference[1]:.1f} | {similarity['All']:.3f} |")  # fmt: skip
        assert_close(f"{kind} {ours['name']}", measured, reference)
        assert similarity["All"] >= MIN_SSIM, similarity
    poster = fetch(system, hdr["poster_url"], tmp_path / f"{kind}-poster.jpg")
    reference = fetch(system, sdr["poster_url"], tmp_path / "sdr-poster.jpg")
    measured, wanted = brightness_and_saturation(poster), brightness_and_saturation(reference)
    FIGURES.append(
        f"| {kind} | poster | {measured[0]:.1f} / {wanted[0]:.1f} | {measured[1]:.1f} / {wanted[1]:.1f} | |"
    )
    assert_close(f"{kind} poster", measured, wanted)


def test_highlights_above_white_roll_off_instead_of_clipping(system, videos, tmp_path):
    video = videos["ramp"]
    assert video["state"] == "ready", video["error"]
    top = video["renditions"][-1]
    got = fetch(system, top["url"], tmp_path / "ramp.mp4")
    width, height = top["width"], top["height"]
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(got), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "gray", "-"], check=True, capture_output=True).stdout  # fmt: skip
    row = raw[(height // 2) * width : (height // 2 + 1) * width]

    def at(times_white: float) -> int:
        return row[min(int(times_white / RAMP_TOP * width), width - 1)]

    levels = [at(x) for x in (0.5, 1.0, 1.5, 2.0)]
    FIGURES.append(f"| pq ramp | {top['name']} | 0.5x, 1x, 1.5x, 2x white: {levels} (of 255) | | |")
    assert levels == sorted(set(levels)), f"highlights flattened: {levels}"
    assert levels[1] <= 248, f"reference white already at the top, no room left for highlights: {levels}"


def test_an_upright_phone_hlg_video_comes_out_upright_in_sdr(system, videos, tmp_path):
    video = videos["hlg_upright"]
    assert video["state"] == "ready", video["error"]
    assert [(r["width"], r["height"]) for r in video["renditions"]] == [
        (144, 256),
        (240, 426),
        (360, 640),
        (480, 854),
    ]
    for rendition in video["renditions"]:
        got = fetch(system, rendition["url"], tmp_path / f"{rendition['name']}.mp4")
        assert_bt709_sdr(got)
        corners = corner_lumas(got, rendition["width"], rendition["height"])
        assert corners["tl"] > 180 and all(corners[c] < 80 for c in ("tr", "bl", "br")), corners


def test_a_bt601_source_keeps_its_colours_in_bt709(system, videos, sources, tmp_path):
    video = videos["pal"]
    assert video["state"] == "ready", video["error"]
    for rendition in video["renditions"]:
        width, height = rendition["width"], rendition["height"]
        got = fetch(system, rendition["url"], tmp_path / f"{rendition['name']}.mp4")
        assert_bt709_sdr(got)
        # The same RGB scene, put into BT.709 directly: what the rendition must hold.
        want = tmp_path / f"want-{rendition['name']}.mp4"
        run("-f", "lavfi", "-i", "testsrc2=size=720x576:rate=25:duration=3", "-vf",
            f"format=rgb24,scale={width}:{height}:out_color_matrix=bt709:out_range=tv,format=yuv420p",
            "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", str(want))  # fmt: skip
        similarity = ssim(got, want)
        FIGURES.append(
            f"| bt601 | {rendition['name']} | | | {similarity['All']:.3f} "
            f"(U {similarity['U']:.3f}, V {similarity['V']:.3f}) |"
        )
        assert min(similarity["U"], similarity["V"]) >= 0.95, similarity


def test_write_figures(artifacts_dir):
    lines = [
        "| source | output | brightness (ours / SDR) | saturation (ours / SDR) | SSIM |",
        "| --- | --- | --- | --- | --- |",
    ]
    (artifacts_dir / "hdr.md").write_text("\n".join(lines + FIGURES) + "\n")
    assert FIGURES
