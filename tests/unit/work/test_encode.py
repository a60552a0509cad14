"""What a part that encodes wrote, checked complete before it is ready (files in a temporary
folder; no ffmpeg), and the storage keys it writes."""

import hashlib

import pytest

from tests.unit.records.test_transitions import fresh, ids
from transcoder.errors import StorageError
from transcoder.media import hls
from transcoder.records import states
from transcoder.work import encode

STSD = b"\x00\x00\x00\x0cstsd\x00\x00\x00\x01"
INIT = b"\x00\x00\x00\x08ftyp" + STSD


def written(folder, durations, sizes=None, init=INIT):
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["#EXTM3U"]
    for n, seconds in enumerate(durations):
        name = f"seg_{n:03d}.m4s"
        lines += [f"#EXTINF:{seconds},", name]
        size = (sizes or [100] * len(durations))[n]
        if size is not None:
            (folder / name).write_bytes(b"x" * size)
    (folder / hls.PLAYLIST).write_text("\n".join(lines) + "\n")
    if init is not None:
        (folder / hls.INIT).write_bytes(init)
    return folder


def test_a_complete_part_is_described_by_its_segments_and_init(tmp_path):
    folder = written(tmp_path, [4.0, 4.0, 1.5], sizes=[300, 200, 100])
    assert encode.describe(folder, 9.5) == {
        "init_md5": hashlib.md5(INIT).hexdigest(),
        "stsd_md5": hashlib.md5(STSD).hexdigest(),
        "segments": [["seg_000.m4s", 4.0, 300], ["seg_001.m4s", 4.0, 200], ["seg_002.m4s", 1.5, 100]],
    }


@pytest.mark.parametrize(
    ("durations", "sizes", "init", "seconds"),
    [
        ([], None, INIT, 0.0),  # no segment at all
        ([4.0, 4.0], [100, None], INIT, 8.0),  # a segment named but never written
        ([4.0, 4.0], [100, 0], INIT, 8.0),  # an empty one (a full disk)
        ([4.0, 4.0], [100, 100], None, 8.0),  # no init segment
        ([4.0, 2.0], [100, 100], INIT, 8.0),  # segments that stop short of the part
    ],
    ids=["no-segment", "never-written", "empty", "no-init", "short"],
)
def test_a_part_that_was_not_all_written_is_refused(tmp_path, durations, sizes, init, seconds):
    folder = written(tmp_path, durations, sizes, init)
    with pytest.raises(StorageError, match="were not all written"):
        encode.describe(folder, seconds)


def test_the_short_tail_tolerated_is_a_tenth_and_half_a_second(tmp_path):
    assert encode.describe(written(tmp_path / "edge", [4.0, 4.0]), 9.444)["segments"]
    with pytest.raises(StorageError):
        encode.describe(written(tmp_path / "under", [4.0, 4.0]), 9.45)


def test_a_part_writes_its_renditions_tiles_and_poster_and_the_sound_its_own_folder():
    video = fresh()
    first, later = ids(video, "video")
    assert encode.outputs(video, states.part(video, first)) == [
        *(f"videos/v1/hls/{r['name']}/{first}" for r in video["renditions"]),
        f"videos/v1/tiles/{first}",
    ] + (["videos/v1/poster.jpg"] if states.part(video, first)["poster_at"] is not None else [])
    [sound] = ids(video, "audio")
    assert encode.outputs(video, states.part(video, sound)) == [f"videos/v1/hls/{sound}/{sound}"]


def test_a_part_beside_others_decodes_on_one_thread_and_the_first_chunk_on_every_core():
    assert encode.decode_threads({"urgent": False}, 0) == 1
    assert encode.decode_threads({"urgent": True}, 0) == 0
    assert encode.decode_threads({"urgent": True}, 2) == 2  # as the operator set it
