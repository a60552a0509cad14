"""Where each file of a video lives in storage (pure)."""

import pytest

from transcoder.errors import StorageError
from transcoder.storage import layout
from transcoder.storage.base import check_key

VIDEO = "0123456789abcdef0123456789abcdef"


def test_every_file_of_a_video_lives_under_its_prefix():
    keys = [
        layout.source_key(VIDEO),
        layout.rendition_key(VIDEO, "144p"),
        layout.hls_prefix(VIDEO, "144p"),
        layout.part_prefix(VIDEO, "144p", "v00"),
        layout.tiles_prefix(VIDEO, "v00"),
        *(layout.preview_key(VIDEO, name) for name in layout.PREVIEW_FILES),
    ]
    assert keys == [
        f"videos/{VIDEO}/source", f"videos/{VIDEO}/144p.mp4", f"videos/{VIDEO}/hls/144p",
        f"videos/{VIDEO}/hls/144p/v00", f"videos/{VIDEO}/tiles/v00", f"videos/{VIDEO}/poster.jpg",
        f"videos/{VIDEO}/storyboard.jpg", f"videos/{VIDEO}/storyboard.vtt",
    ]  # fmt: skip
    assert all(k.startswith(layout.video_prefix(VIDEO) + "/") for k in keys)
    assert all(check_key(k) == k for k in keys)


@pytest.mark.parametrize("key", ["", "/etc/passwd", "videos/../x", "videos//x", "videos/./x", "a/.."])
def test_a_key_that_could_climb_out_is_refused(key):
    with pytest.raises(StorageError, match="Refusing a storage key outside storage"):
        check_key(key)
