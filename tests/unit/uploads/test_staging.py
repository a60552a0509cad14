"""LocalStaging: bytes gather in one file per upload; an append drops what lies past the
recorded offset first; finish hands the file over and drops what was not kept."""

from __future__ import annotations

import hashlib

import pytest

from transcoder.errors import ConfigError, InvalidInput, UploadGone
from transcoder.settings import Settings
from transcoder.storage.local import LocalStorage
from transcoder.uploads import staging

UPLOAD = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def local(tmp_path):
    return staging.LocalStaging(tmp_path / "scratch", LocalStorage(tmp_path / "storage"))


def test_appends_truncate_past_the_offset_and_keep_every_byte(local):
    state = local.begin(UPLOAD)
    assert local.append(UPLOAD, state, 0, [b"abc", b"def"]) == (6, state)
    # A PATCH that was not recorded wrote "def"; the next one starts at 3 again.
    assert local.append(UPLOAD, state, 3, iter([b"XY"])) == (5, state)
    assert local.path(UPLOAD).read_bytes() == b"abcXY"
    assert local.append(UPLOAD, state, 5, ()) == (5, state)


def test_finish_hashes_when_the_hash_was_lost_and_keep_moves_the_file(local, tmp_path):
    state = local.begin(UPLOAD)
    local.append(UPLOAD, state, 0, [b"video bytes"])
    with local.finish(UPLOAD, state, 11, None) as staged:
        assert staged.sha256 == hashlib.sha256(b"video bytes").hexdigest()
        staged.keep("videos/v1/source")
        staged.discard()  # after keep: nothing to drop
    assert (tmp_path / "storage" / "videos" / "v1" / "source").read_bytes() == b"video bytes"
    assert not local.path(UPLOAD).exists()


def test_leaving_finish_drops_what_was_not_kept_and_discard_is_harmless_twice(local):
    state = local.begin(UPLOAD)
    local.append(UPLOAD, state, 0, [b"x"])
    with local.finish(UPLOAD, state, 1, "given") as staged:
        assert staged.sha256 == "given"
    assert not local.path(UPLOAD).exists()
    local.discard(UPLOAD, state)
    local.discard(UPLOAD, state)


def test_an_id_never_names_a_path_outside_the_folder(local):
    for bad in ("../../etc/passwd", "ABC", ""):
        with pytest.raises(InvalidInput):
            local.path(bad)


def test_the_folder_is_one_the_scratch_cleaner_leaves_alone(tmp_path):
    from transcoder.storage import scratch

    local = staging.LocalStaging(tmp_path, LocalStorage(tmp_path / "storage"))
    local.append(UPLOAD, local.begin(UPLOAD), 0, [b"x"])
    scratch.clean(tmp_path, cache_seconds=0)
    assert local.path(UPLOAD).exists()


def test_of_picks_local_and_says_what_s3_lacks(tmp_path):
    settings = Settings(scratch_dir=tmp_path)
    assert isinstance(staging.of(settings, LocalStorage(tmp_path / "s")), staging.LocalStaging)
    s3 = Settings(storage="s3", s3_bucket="b")
    try:
        import transcoder.uploads.s3_staging  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError):
            staging.of(s3, LocalStorage(tmp_path / "s"))


def test_bytes_lost_before_the_recorded_offset_are_said_not_written_over(local):
    """A machine that crashed before its page cache reached the disk leaves the file
    shorter than the catalog's offset: the upload cannot go on (410), never with a hole."""
    state = local.begin(UPLOAD)
    local.append(UPLOAD, state, 0, [b"abc"])
    with pytest.raises(UploadGone):
        local.append(UPLOAD, state, 10, [b"more"])
    assert local.path(UPLOAD).read_bytes() == b"abc"


def test_checkpoints_come_every_few_mib_with_the_bytes_flushed(local, monkeypatch):
    """Each checkpoint finds its bytes in the file (flushed, so a killed process keeps
    them); a checkpoint that raises stops the append there."""
    monkeypatch.setattr(staging, "CHECKPOINT_BYTES", 10)
    state = local.begin(UPLOAD)
    seen: list[tuple[int, bytes]] = []

    def checkpoint(offset: int, at: dict) -> None:
        seen.append((offset, local.path(UPLOAD).read_bytes()))

    assert local.append(UPLOAD, state, 0, [b"a" * 6] * 4, checkpoint) == (24, state)
    assert seen == [(12, b"a" * 12), (24, b"a" * 24)]

    def revoked(offset: int, at: dict) -> None:
        raise InvalidInput("stop")

    with pytest.raises(InvalidInput):
        local.append(UPLOAD, state, 24, [b"b" * 6] * 4, revoked)
    assert local.path(UPLOAD).read_bytes() == b"a" * 24 + b"b" * 12  # the caller drops it back
