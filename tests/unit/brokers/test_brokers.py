"""Each TRANSCODER_BROKER_URL names one broker, which answers for itself what the rest of the
code asks: its queues, whether it keeps order, whether it is checked apart from Redis, its
Celery URL and options, its hold, and the extra its transport needs."""

import pytest

from transcoder import brokers
from transcoder.records.redis_keys import FINALIZE_QUEUE, PARTS_QUEUE, URGENT_QUEUE
from transcoder.settings import Settings


def broker(url: str, **env: str) -> brokers.Broker:
    return brokers.of(Settings.from_env({"TRANSCODER_BROKER_URL": url, **env}))


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("redis://127.0.0.1:6379/0", brokers.RedisBroker),
        ("rediss://cache.example:6380/0", brokers.RedisBroker),
        ("unix:///run/redis.sock", brokers.RedisBroker),
        ("amqp://guest:guest@127.0.0.1:5672/x", brokers.RabbitMQ),
        ("amqps://guest:guest@mq.example/x", brokers.RabbitMQ),
        ("sqs://", brokers.SQS),
        ("sqs://KEY:SECRET@", brokers.SQS),
    ],
)
def test_each_url_names_its_broker(url, kind):
    assert brokers.named(url) is kind
    assert type(broker(url)) is kind


def test_an_unknown_scheme_names_no_broker():
    with pytest.raises(ValueError):
        brokers.named("kafka://127.0.0.1:9092")


def test_only_sqs_has_an_urgent_queue_and_a_hold_to_renew():
    for url in ("redis://127.0.0.1:6379/0", "amqp://guest:guest@127.0.0.1:5672/x"):
        assert broker(url).queues() == (PARTS_QUEUE, FINALIZE_QUEUE)
        assert broker(url).keeps_order and broker(url).hold_seconds is None
    sqs = broker("sqs://", TRANSCODER_LEASE_SECONDS="12.4")
    assert sqs.queues() == (URGENT_QUEUE, PARTS_QUEUE, FINALIZE_QUEUE)
    assert not sqs.keeps_order and sqs.hold_seconds == 12
    assert sqs.transport_options()["visibility_timeout"] == 12


def test_the_redis_broker_is_checked_as_redis_the_others_apart():
    assert not broker("redis://127.0.0.1:6379/0").apart
    assert broker("amqp://guest:guest@127.0.0.1:5672/x").apart and broker("sqs://").apart


def test_the_redis_broker_is_not_required_apart_at_start():
    """Redis is waited for as before: ``require`` asks nothing of it (nothing listens here)."""
    broker("redis://127.0.0.1:1/0").require(client=None)  # type: ignore[arg-type]


def test_an_extra_the_transport_needs_is_named_only_when_missing(monkeypatch):
    assert broker("redis://127.0.0.1:6379/0").missing_extra() is None
    assert broker("sqs://").missing_extra() is None  # pycurl is installed here
    monkeypatch.setattr(brokers.SQS, "extra", ("sqs", "no_module_of_this_name"))
    assert broker("sqs://").missing_extra() == "sqs"


def test_a_password_is_not_shown():
    assert brokers.shown("amqp://guest:secret@h/v") == "amqp://guest:***@h/v"
    assert brokers.shown("sqs://") == "sqs://"
