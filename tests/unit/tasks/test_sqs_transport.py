"""The SQS transport says so when a kombu release takes away a private name it relies on, and
its keeper, which keeps held messages hidden, survives any error of one round."""

import logging
import threading

import pytest
from kombu.transport import SQS

from tasks import sqs_transport
from tests.support.processes import wait_for
from transcoder.errors import ConfigError


def test_the_installed_kombu_has_every_private_name_the_sqs_transport_relies_on():
    gaps = sqs_transport.kombu_gaps()
    assert not gaps, "\n".join(gaps)


def test_a_kombu_without_on_messages_ready_is_refused_naming_it(monkeypatch):
    monkeypatch.delattr(SQS.Channel, "_on_messages_ready")
    with pytest.raises(
        ConfigError, match=r"SQS\.Channel\._on_messages_ready\(queue, qname, messages\) is gone"
    ):
        sqs_transport.use()


@pytest.mark.parametrize("name", ["_delivered", "_dirty"])
def test_a_kombu_whose_qos_lacks_a_name_is_refused_naming_it(monkeypatch, name):
    class Renamed(SQS.QoS):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            delattr(self, name)

    monkeypatch.setattr(SQS, "QoS", Renamed)
    with pytest.raises(ConfigError, match=rf"SQS\.QoS\.{name} is gone in kombu"):
        sqs_transport.use()


def test_the_keeper_logs_an_error_and_carries_on(caplog):
    """As when kombu renamed a private name: the round fails, is logged, and the next round
    runs."""
    rounds = []

    def channel_of():
        rounds.append(1)
        if len(rounds) == 1:
            raise AttributeError("'QoS' object has no attribute '_delivered'")

    stop = threading.Event()
    caplog.set_level(logging.ERROR, logger=sqs_transport.__name__)
    keeper = sqs_transport.keep_held(channel_of, lambda *_: None, 1, stop)
    try:
        wait_for(lambda: len(rounds) >= 3, 10, "two more rounds after the failed one")
        assert keeper.is_alive()
        failed = [r for r in caplog.records if r.name == sqs_transport.__name__]
        assert len(failed) == 1 and "could not renew" in failed[0].getMessage()
        assert "_delivered" in caplog.text  # the traceback names what went wrong
    finally:
        stop.set()
        keeper.join(5)
