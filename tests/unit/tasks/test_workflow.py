"""Which queue each part is sent on: the urgent parts have one of their own on SQS only."""

from tasks.celery import make_celery
from tasks.workflow import _signature, urgent_parts
from tests.unit.records.test_transitions import fresh
from transcoder.records.redis_keys import URGENT_QUEUE
from transcoder.settings import Settings


def test_on_sqs_what_makes_a_video_playable_is_sent_on_the_urgent_queue():
    video = fresh()
    assert urgent_parts("sqs://", video) == {"a64", "v00"}
    for url in ("redis://127.0.0.1:6379/0", "amqp://guest:guest@127.0.0.1:5672/x"):
        assert urgent_parts(url, video) == frozenset()
    celery = make_celery(Settings.from_env({"TRANSCODER_BROKER_URL": "sqs://"}))
    assert _signature(celery, "v1", "v00", True).options["queue"] == URGENT_QUEUE
    assert "queue" not in _signature(celery, "v1", "v01", False).options  # routed to parts
    assert URGENT_QUEUE in {q.name for q in celery.conf.task_queues}
