"""Every case in cases.py, uploaded through the API to the real system; its exact outcome checked."""

import json
import re
import socket
import subprocess
import threading
from pathlib import Path

import pytest
import requests

from tests.support.requests_to_api import upload, wait_terminal

from .cases import CASES, table

#: Where the cases are documented for users ("Odd and hostile uploads").
OUTPUTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "outputs.md"


@pytest.fixture(scope="module")
def canary():
    """An HTTP listener no upload may ever reach; counts the connections it gets."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    hits, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            hits.append(conn.recv(1024))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join()
    server.close()


def ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True,
        capture_output=True,
    ).stdout
    return json.loads(out)


def mean_volume(path: Path) -> float:
    err = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-i", str(path), "-af", "volumedetect", "-f", "null", "-"],
        capture_output=True,
        text=True,
    ).stderr
    return float(re.search(r"mean_volume: (-?[\d.]+|-inf) dB", err).group(1).replace("-inf", "-999"))


def corner_lumas(path: Path, width: int, height: int) -> dict[str, float]:
    """Mean brightness (0-255) of a small region in each corner of the first frame."""
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
         "-pix_fmt", "gray", "-"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    assert len(raw) == width * height
    w, h = max(width // 20, 2), max(height // 20, 2)
    starts = {
        "tl": (1, 1),
        "tr": (width - w - 1, 1),
        "bl": (1, height - h - 1),
        "br": (width - w - 1, height - h - 1),
    }

    def mean(x0: int, y0: int) -> float:
        return sum(raw[(y0 + j) * width + x0 + i] for j in range(h) for i in range(w)) / (w * h)

    return {corner: mean(x, y) for corner, (x, y) in starts.items()}


def interlaced_share(path: Path) -> float:
    """The share of frames ffmpeg's idet filter finds combed (interlaced), whatever the tags say."""
    err = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-i", str(path), "-vf", "idet", "-f", "null", "-"],
        capture_output=True, text=True,
    ).stderr  # fmt: skip
    found = re.search(r"Multi frame detection: TFF:\s*(\d+) BFF:\s*(\d+) Progressive:\s*(\d+)", err)
    tff, bff, progressive = map(int, found.groups())
    return (tff + bff) / max(tff + bff + progressive, 1)


def check_output(path: Path, rendition: dict, case, source_duration: float) -> None:
    data = ffprobe(path)
    video = [s for s in data["streams"] if s["codec_type"] == "video"]
    audio = [s for s in data["streams"] if s["codec_type"] == "audio"]
    assert len(video) == 1
    v = video[0]
    assert v["codec_name"] == "h264" and v["pix_fmt"] == "yuv420p"
    assert (v["width"], v["height"]) == (rendition["width"], rendition["height"])
    assert v["width"] % 2 == 0 and v["height"] % 2 == 0
    assert v.get("sample_aspect_ratio", "1:1") in ("1:1", "0:1")
    # Upright: no rotation left for a player to apply.
    assert "rotate" not in v.get("tags", {})
    assert not any("rotation" in side for side in v.get("side_data_list", []))
    assert v.get("field_order", "progressive") in ("progressive", "unknown")
    assert len(audio) == (1 if case.audio else 0)
    duration = float(data["format"]["duration"])
    assert abs(duration - source_duration) <= 0.02 * source_duration + case.slack, (duration, source_duration)
    # Every rendition is SDR BT.709, whatever the source's colour (see transcoder/media/color.py).
    assert (v.get("color_primaries"), v.get("color_transfer"), v.get("color_space")) == ("bt709",) * 3
    if case.extra.get("marker"):
        corners = corner_lumas(path, v["width"], v["height"])
        assert corners["tl"] > 180, f"the marker is not top-left: the picture is turned wrong {corners}"
        assert all(corners[c] < 80 for c in ("tr", "bl", "br")), corners
    if case.extra.get("combed"):
        assert interlaced_share(path) < 0.1, "combing left in the picture: not deinterlaced"
    if case.extra.get("loud"):
        assert mean_volume(path) > -40, "the default (loud) audio track was not the one encoded"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case, system, canary, tmp_path):
    port, hits = canary
    path = case.make(tmp_path)
    path.write_bytes(path.read_bytes().replace(b"{port}", str(port).encode()))
    if case.extra.get("combed"):
        assert interlaced_share(path) > 0.8, "the source itself must look combed to idet"
    response = upload(system, path)

    if case.code:
        assert response.status_code == case.status, response.text
        error = response.json()["error"]
        assert error["code"] == case.code
        assert len(error["message"]) > 20
        assert hits == []
        return

    assert response.status_code == 201, response.text
    video = wait_terminal(system, response.json()["id"])
    assert video["state"] == "ready", video["error"]
    assert tuple((r["name"], r["width"], r["height"]) for r in video["renditions"]) == case.ladder
    assert video["source"]["has_audio"] is case.audio
    assert video["playable"] and video["poster_url"]
    for rendition in video["renditions"]:
        out = tmp_path / f"{rendition['name']}.mp4"
        out.write_bytes(requests.get(system + rendition["url"], timeout=30).content)
        check_output(out, rendition, case, video["source"]["duration"])
    assert hits == []


def test_no_case_wrote_outside_its_video_folder_or_stopped_a_worker(system, storage_dir, processes):
    assert sorted(p.name for p in storage_dir.iterdir()) == ["videos"]
    allowed = re.compile(r"^(source|\d+p\.mp4|poster\.jpg|storyboard\.(jpg|vtt)|hls|tiles)$")
    for folder in (storage_dir / "videos").iterdir():
        assert re.fullmatch(r"[0-9a-f]{32}", folder.name)
        assert all(allowed.match(p.name) for p in folder.iterdir()), sorted(p.name for p in folder.iterdir())
    main_system = [processes.by_name[name] for name in ("w1", "w2", "web")]
    assert all(proc.poll() is None for proc in main_system), "a worker or the web server died"


def test_the_outputs_page_lists_every_case_with_its_outcome():
    text = OUTPUTS_DOC.read_text()
    start = text.index("<!-- inputs-table -->") + len("<!-- inputs-table -->\n")
    end = text.index("<!-- /inputs-table -->")
    assert text[start:end] == table(), "run: python -m tests.inputs.cases, and paste it into docs/outputs.md"
