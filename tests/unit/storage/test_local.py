"""Local storage writes under a temporary name and renames into place: a reader never sees
half a file, and a writer that fails leaves nothing at the key."""

import pytest

from transcoder.storage.local import LocalStorage

KEY = "videos/" + "a" * 32 + "/144p.mp4"


def test_a_file_being_written_is_not_visible_until_it_is_complete(tmp_path):
    storage = LocalStorage(tmp_path)
    with storage.writing(KEY) as tmp:
        tmp.write_bytes(b"half")
        assert not storage.exists(KEY)
        assert tmp != storage.path(KEY)
    assert storage.path(KEY).read_bytes() == b"half"
    assert not [p for p in storage.path(KEY).parent.iterdir() if p.name.endswith(".part")]


def test_a_failed_write_leaves_nothing_and_keeps_the_previous_copy(tmp_path):
    storage = LocalStorage(tmp_path)
    with storage.writing(KEY) as tmp:
        tmp.write_bytes(b"complete")
    with pytest.raises(RuntimeError), storage.writing(KEY) as tmp:
        tmp.write_bytes(b"torn")
        raise RuntimeError("ffmpeg died")
    assert storage.path(KEY).read_bytes() == b"complete"
    assert sorted(p.name for p in storage.path(KEY).parent.iterdir()) == ["144p.mp4"]


def test_a_first_write_that_fails_leaves_no_file_at_all(tmp_path):
    storage = LocalStorage(tmp_path)
    with pytest.raises(RuntimeError), storage.writing(KEY) as tmp:
        tmp.write_bytes(b"torn")
        raise RuntimeError("disk full")
    assert not storage.exists(KEY)
    assert list(storage.path(KEY).parent.iterdir()) == []


def test_partials_left_by_a_killed_writer_are_discarded_but_never_the_finished_file(tmp_path):
    storage = LocalStorage(tmp_path)
    with storage.writing(KEY) as tmp:
        tmp.write_bytes(b"complete")
    left = storage.path(KEY).with_name(".144p.mp4.0123.part")
    left.write_bytes(b"torn")
    storage.discard_partials(KEY)
    assert not left.exists() and storage.path(KEY).read_bytes() == b"complete"
