from pathlib import Path

import pytest

from transcoder import settings as settings_module
from transcoder.errors import ConfigError
from transcoder.settings import Settings


def test_defaults_need_no_environment():
    s = Settings.from_env({})
    assert s.redis_url == "redis://127.0.0.1:6379/0"
    assert s.storage_dir == Path("var/storage")
    assert s.base_url == "http://127.0.0.1:8000"


def test_prefixed_variables_are_read_and_typed():
    s = Settings.from_env(
        {
            "TRANSCODER_REDIS_URL": "redis://cache:6380/2",
            "TRANSCODER_STORAGE_DIR": "/srv/videos",
            "TRANSCODER_MAX_UPLOAD_BYTES": "1000",
            "TRANSCODER_PROGRESS_INTERVAL": "0.5",
            "REDIS_URL": "redis://ignored:1/1",
        }
    )
    assert (s.redis_url, s.storage_dir, s.max_upload_bytes, s.progress_interval) == (
        "redis://cache:6380/2",
        Path("/srv/videos"),
        1000,
        0.5,
    )


def test_overrides_win_over_the_environment():
    s = Settings.from_env({"TRANSCODER_PORT": "9000"}, port=9100)
    assert s.port == 9100


@pytest.mark.parametrize(
    "name,value,fragment",
    [
        ("TRANSCODER_MAX_UPLOAD_BYTES", "lots", "must be a int"),
        ("TRANSCODER_MAX_UPLOAD_BYTES", "0", "must be positive"),
        ("TRANSCODER_REDIS_URL", "http://x", "must start with redis://"),
        ("TRANSCODER_BROKER_URL", "kafka://x", "BROKER_URL must start with redis://, rediss://, amqp://"),
        ("TRANSCODER_PORT", "70000", "between 1 and 65535"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(name, value, fragment):
    with pytest.raises(ConfigError) as info:
        Settings.from_env({name: value})
    assert fragment in info.value.message


def test_a_renamed_setting_keeps_its_old_name_and_value_for_a_release_with_a_warning(caplog, monkeypatch):
    monkeypatch.setattr(settings_module, "_WARNED", set())  # as in a process just started
    with caplog.at_level("WARNING", logger="transcoder.settings"):
        settings = Settings.from_env({"TRANSCODER_PLAN": "rungs"})
        # Read again elsewhere in the same process (its Celery app, say): not told again.
        Settings.from_env({"TRANSCODER_PLAN": "rungs"})
    assert settings.part_shape == "renditions"
    said = [r.getMessage() for r in caplog.records]
    assert (
        said.count(
            "TRANSCODER_PLAN is now TRANSCODER_PART_SHAPE; the old name will stop working in a later release"
        )
        == 1
    )
    assert said.count("TRANSCODER_PART_SHAPE=rungs is now written TRANSCODER_PART_SHAPE=renditions") == 1


def test_the_keepalive_of_every_live_stream_keeps_its_old_name_for_a_release_with_a_warning(
    caplog, monkeypatch
):
    monkeypatch.setattr(settings_module, "_WARNED", set())
    with caplog.at_level("WARNING", logger="transcoder.settings"):
        settings = Settings.from_env({"TRANSCODER_SSE_KEEPALIVE": "3"})
    assert settings.stream_keepalive == 3.0
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "TRANSCODER_SSE_KEEPALIVE is now TRANSCODER_STREAM_KEEPALIVE" in said
    both = {"TRANSCODER_SSE_KEEPALIVE": "3", "TRANSCODER_STREAM_KEEPALIVE": "7"}
    assert Settings.from_env(both).stream_keepalive == 7.0


def test_the_new_name_wins_over_the_old_one_and_a_wrong_shape_is_refused():
    assert (
        Settings.from_env({"TRANSCODER_PLAN": "renditions", "TRANSCODER_PART_SHAPE": "chunks"}).part_shape
        == "chunks"
    )
    with pytest.raises(ConfigError, match="PART_SHAPE must be chunks or renditions"):
        Settings.from_env({"TRANSCODER_PART_SHAPE": "rungz"})


def test_the_broker_is_the_redis_unless_one_is_named():
    assert Settings.from_env({}).broker_url == "redis://127.0.0.1:6379/0"
    rabbit = "amqp://guest:guest@127.0.0.1:5672/transcoder"
    assert Settings.from_env({"TRANSCODER_BROKER_URL": rabbit}).broker_url == rabbit


@pytest.mark.parametrize(
    "extra,fragment",
    [
        ({"TRANSCODER_SQS_QUEUE_PREFIX": "a.b"}, "SQS_QUEUE_PREFIX may hold only letters"),
        ({"TRANSCODER_SQS_ENDPOINT_URL": "127.0.0.1:4566"}, "SQS_ENDPOINT_URL must start with http"),
        ({"TRANSCODER_TASK_TIME_LIMIT": "43000"}, "TASK_TIME_LIMIT must be at most 42540 s"),
    ],
)
def test_sqs_settings_that_cannot_work_are_refused(extra, fragment):
    with pytest.raises(ConfigError, match=fragment):
        Settings.from_env({"TRANSCODER_BROKER_URL": "sqs://", **extra})
    Settings.from_env(extra | {"TRANSCODER_SQS_QUEUE_PREFIX": "ok"})  # only SQS asks
