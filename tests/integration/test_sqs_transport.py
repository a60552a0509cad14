"""On SQS a worker holds only what it can start, keeps hiding what it holds, and what a dead one
held shows again soon: messages a poll brought beyond the worker's free slots are visible to
the others at once; a message received and not acknowledged stays hidden while its holder
renews it, past the queue's short visibility timeout, and shows again within that timeout
once renewals stop (the worker died); and the keeper that renews them carries on after a
round fails. Real kombu channel, real SQS API (moto's server, over HTTP)."""

import logging
import threading
import time

import pytest
from kombu import Connection

from tasks import sqs_transport
from tests.support.brokers import drop_sqs_queues, sqs_client, sqs_settings
from tests.support.processes import wait_for
from transcoder import brokers
from transcoder.settings import Settings

HOLD_S = 1


@pytest.fixture
def sqs(sqs_endpoint):
    settings = Settings(**sqs_settings(sqs_endpoint, "keep"))
    yield settings
    drop_sqs_queues(sqs_endpoint, settings.sqs_queue_prefix)


def visible(client, url: str) -> int:
    attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def connection(sqs: Settings, endpoint: str) -> Connection:
    sqs_transport.use()
    options = {"queue_name_prefix": sqs.sqs_queue_prefix, "region": sqs.sqs_region, "is_secure": False,
               "visibility_timeout": HOLD_S, "wait_time_seconds": 0}  # fmt: skip
    return Connection(f"sqs://test-access-key:test-secret-key@{endpoint.removeprefix('http://')}",
                      transport_options=options)  # fmt: skip


def test_what_a_poll_brings_beyond_the_free_slots_is_handed_back_at_once(sqs, sqs_endpoint):
    with connection(sqs, sqs_endpoint) as conn:
        channel = conn.channel()
        channel.queue_declare("parts")
        for n in range(3):
            channel.basic_publish(channel.prepare_message(f"part {n}"), exchange="", routing_key="parts")
        started: list[str] = []
        channel.basic_qos(prefetch_count=1)  # a worker with one free slot
        channel.basic_consume("parts", False, lambda message: started.append(message.body), "worker")
        client, url = sqs_client(sqs_endpoint), channel._new_queue("parts")
        # One poll brings all three, each hidden for a minute unless handed back.
        polled = client.receive_message(QueueUrl=url, MaxNumberOfMessages=3, VisibilityTimeout=60)
        assert len(polled["Messages"]) == 3
        channel._on_messages_ready(url, "parts", polled)
        assert len(started) == 1 and len(channel.held()) == 1
        assert visible(client, url) == 2, "what the worker cannot start now stays hidden from the others"


def test_a_held_message_stays_hidden_while_renewed_and_shows_once_its_holder_stops(sqs, sqs_endpoint):
    with connection(sqs, sqs_endpoint) as conn:
        channel = conn.channel()
        assert isinstance(channel, sqs_transport.Channel)
        channel.queue_declare("held")
        channel.basic_publish(channel.prepare_message("encode me"), exchange="", routing_key="held")
        message = channel.basic_get("held", no_ack=False)
        assert message is not None and channel.held()
        client, url = sqs_client(sqs_endpoint), channel._new_queue("held")
        stop = threading.Event()
        sqs_transport.keep_held(lambda: channel, brokers.of(sqs).hide, HOLD_S, stop)
        # Three times the queue's visibility timeout: renewed, never shown to another worker.
        until = time.monotonic() + 3 * HOLD_S
        while time.monotonic() < until:
            assert visible(client, url) == 0
            time.sleep(0.1)
        stop.set()  # its worker is gone
        wait_for(lambda: visible(client, url) == 1, 5 * HOLD_S, "the dead worker's message showing again")


def test_the_keeper_survives_a_kombu_that_lost_a_private_name_and_renews_once_it_is_back(
    sqs, sqs_endpoint, caplog
):
    """A round that fails (here: the channel's QoS lost ``_delivered``, as a kombu release
    could do) is logged, and the keeper goes on: what the worker then holds stays hidden."""
    caplog.set_level(logging.ERROR, logger=sqs_transport.__name__)
    with connection(sqs, sqs_endpoint) as conn:
        channel = conn.channel()
        channel.queue_declare("held")
        client, url = sqs_client(sqs_endpoint), channel._new_queue("held")
        qos = channel.qos
        delivered = qos._delivered
        del qos._delivered
        stop = threading.Event()
        keeper = sqs_transport.keep_held(lambda: channel, brokers.of(sqs).hide, HOLD_S, stop)
        try:
            wait_for(lambda: "could not renew" in caplog.text, 5 * HOLD_S, "the failed round logged")
            assert "_delivered" in caplog.text and keeper.is_alive()
            qos._delivered = delivered
            channel.basic_publish(channel.prepare_message("encode me"), exchange="", routing_key="held")
            assert channel.basic_get("held", no_ack=False) is not None
            until = time.monotonic() + 3 * HOLD_S
            while time.monotonic() < until:
                assert visible(client, url) == 0, "the keeper renews what the worker holds again"
                time.sleep(0.1)
        finally:
            stop.set()
            keeper.join(5)
