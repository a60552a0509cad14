import json
from pathlib import Path

import pytest

from transcoder.errors import InvalidInput
from transcoder.media.probe import MediaInfo, parse_probe

DATA = Path(__file__).parent / "data"


def recorded(name):
    return json.loads((DATA / f"probe-{name}.json").read_text())


def video_stream(**extra):
    return {"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
            "avg_frame_rate": "30000/1001", "pix_fmt": "yuv420p", **extra}  # fmt: skip


def test_rotated_display_matrix_swaps_the_displayed_size():
    info = parse_probe(recorded("rotated"))
    assert (info.coded_width, info.coded_height) == (640, 360)
    assert (info.width, info.height, info.rotation) == (360, 640, 90)
    assert info.has_audio is False and info.fps == 25.0 and info.duration == 1.0


def test_old_style_rotate_tag_is_honoured():
    data = {"streams": [video_stream(tags={"rotate": "270"})], "format": {"duration": "3.5"}}
    info = parse_probe(data)
    assert (info.width, info.height, info.rotation) == (1080, 1920, 270)


def test_non_square_pixels_give_the_display_width():
    info = parse_probe(recorded("anamorphic"))
    assert info.sample_aspect_ratio == "16:11"
    assert (info.width, info.height) == (1047, 576)


def test_audio_and_frame_rate_and_codecs():
    data = {
        "streams": [video_stream(), {"codec_type": "audio", "codec_name": "opus"}],
        "format": {"duration": "10.0", "format_name": "matroska,webm"},
    }
    info = parse_probe(data)
    assert info.has_audio and info.audio_codec == "opus"
    assert info.fps == 29.97 and info.video_codec == "h264" and info.format_name == "matroska,webm"


def test_cover_art_is_not_a_video_track():
    art = video_stream(disposition={"attached_pic": 1})
    data = {"streams": [{"codec_type": "audio", "codec_name": "mp3"}, art], "format": {"duration": "60"}}
    with pytest.raises(InvalidInput) as info:
        parse_probe(data)
    assert info.value.code == "no_video_stream"


def test_no_stated_duration_is_left_for_the_packet_count():
    # A browser recording states none; ``probe`` counts it from the packets instead.
    assert parse_probe({"streams": [video_stream()], "format": {"duration": "N/A"}}).duration == 0.0


def test_media_info_round_trips_through_a_dict():
    info = parse_probe(recorded("rotated"))
    assert MediaInfo.from_dict(info.to_dict()) == info


def test_a_file_that_states_no_length_is_read_for_its_frames_once(tmp_path, monkeypatch):
    """A WebM written to a pipe, as a browser's recorder streams one: no Duration element."""
    import subprocess

    from transcoder.media import probe as probe_module

    clip = tmp_path / "recorded.webm"
    with open(clip, "wb") as out:
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                        "testsrc2=size=160x120:rate=10:duration=2", "-c:v", "libvpx-vp9", "-deadline",
                        "realtime", "-f", "webm", "pipe:1"], stdout=out, check=True)  # fmt: skip
    scans = []
    real_scan = probe_module.scan
    monkeypatch.setattr(probe_module, "scan", lambda *a, **k: scans.append(a) or real_scan(*a, **k))
    media, found = probe_module.probe_and_scan(clip)
    assert len(scans) == 1 and media.duration == 2.0 and len(found.times) == 20
    # A file that states its length is scanned once too: for its frames, not its length.
    stated = tmp_path / "stated.webm"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(clip), "-c", "copy", str(stated)], check=True
    )
    scans.clear()
    media, found = probe_module.probe_and_scan(stated)
    assert len(scans) == 1 and len(found.times) == 20
