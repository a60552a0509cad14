"""The content key: the bytes, every setting that shapes the outputs, and the reuse scope."""

import pytest

from transcoder.settings import Settings
from transcoder.work import reuse

SHA = "a" * 64


def key(owner="u1", **settings):
    return reuse.key_for(Settings.from_env({}, **settings), SHA, owner)


def test_the_same_bytes_and_settings_give_the_same_key_and_other_bytes_another():
    assert key() == key() and len(key()) == 64
    assert reuse.key_for(Settings.from_env({}), "b" * 64, "u1") != key()


@pytest.mark.parametrize(
    "changed", [{"x264_preset": "slow"}, {"chunk_seconds": 8.0}, {"part_shape": "renditions"}]
)
def test_a_setting_that_shapes_the_outputs_changes_the_key(changed):
    assert key(**changed) != key()


def test_a_setting_that_does_not_shape_the_outputs_keeps_it():
    assert key(ffmpeg_threads=2, max_attempts=5) == key()


def test_the_engines_version_is_in_the_key(monkeypatch):
    before = key()
    monkeypatch.setattr(reuse, "OUTPUTS_VERSION", reuse.OUTPUTS_VERSION + 1)
    assert key() != before


def test_the_scope_owner_keeps_owners_apart_all_joins_them_off_has_no_key():
    assert key("u1") != key("u2")
    assert key("u1", dedupe="all") == key("u2", dedupe="all") != key("u1")
    assert key(dedupe="off") is None
    with pytest.raises(Exception, match="DEDUPE"):
        Settings.from_env({"TRANSCODER_DEDUPE": "sometimes"})
