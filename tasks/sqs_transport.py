"""kombu's SQS transport, made to lose nothing a dead worker held.

On SQS a message a worker receives is hidden from the others for the queue's visibility
timeout, and handed out again only then. Two things made that a problem:

- kombu polls each of a worker's queues (``urgent``, ``parts``, ``finalize``) on its own,
  each poll asking for as many messages as the worker had free slots when it began. When
  several come back together, the worker holds more than it can start: the rest wait
  behind the encode running before them.
- A worker killed outright leaves hidden what it held, and what its polls still in flight
  received: with a timeout that must outlast the longest encode, for hours.

So this channel delivers only as many of the messages a poll brings as the worker can start
now, and makes the others visible again at once; and each queue's visibility timeout is
short (a part's lease, ``TRANSCODER_LEASE_SECONDS``: ``transcoder.brokers.sqs``), while
every live worker keeps what it holds hidden by renewing it (``keep_held``). A killed worker's
messages come back within that time, as its parts' leases lapse; what it was running the
sweeper sends again too, and whichever copy comes second finds the part done or running
elsewhere.

kombu has no public way to do either, so this relies on names kombu keeps private
(``KOMBU_PRIVATE``), and pyproject.toml pins kombu to the minor version these were tried on.
``kombu_gaps`` says which of them a kombu lacks: ``use`` refuses to start with such a kombu,
naming them, and a unit test fails the same way before a release reaches an installation.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from importlib.metadata import version
from types import SimpleNamespace
from typing import Any

from kombu.transport import SQS, TRANSPORT_ALIASES

from transcoder.errors import ConfigError

log = logging.getLogger(__name__)

#: What this transport takes from kombu beyond its public interface, and why.
KOMBU_PRIVATE = {
    "kombu.transport.SQS.Channel._on_messages_ready(queue, qname, messages)": (
        "what one poll brought, which Channel trims to the worker's free slots"
    ),
    "kombu.transport.SQS.QoS._delivered": "the messages the worker holds, which keep_held renews",
    "kombu.transport.SQS.QoS._dirty": "those of them already acknowledged, which keep_held leaves",
    "kombu.transport.TRANSPORT_ALIASES['sqs']": "where use() points sqs:// URLs at this transport",
}


def kombu_gaps() -> list[str]:
    """The names of ``KOMBU_PRIVATE`` the installed kombu lacks, each with what needs it."""
    missing = []
    ready = getattr(SQS.Channel, "_on_messages_ready", None)
    if not callable(ready) or list(inspect.signature(ready).parameters) != [
        "self",
        "queue",
        "qname",
        "messages",
    ]:
        missing.append("kombu.transport.SQS.Channel._on_messages_ready(queue, qname, messages)")
    qos = SQS.QoS(SimpleNamespace(do_restore=False))  # made only to be looked at
    if finalizer := getattr(qos, "_on_collect", None):
        finalizer.cancel()  # so nothing is restored from it at exit
    if not hasattr(getattr(qos, "_delivered", None), "items"):
        missing.append("kombu.transport.SQS.QoS._delivered")
    if not hasattr(getattr(qos, "_dirty", None), "__contains__"):
        missing.append("kombu.transport.SQS.QoS._dirty")
    if not isinstance(TRANSPORT_ALIASES, dict) or "sqs" not in TRANSPORT_ALIASES:
        missing.append("kombu.transport.TRANSPORT_ALIASES['sqs']")
    return [f"{name} is gone in kombu {version('kombu')}: it was {KOMBU_PRIVATE[name]}" for name in missing]


class Channel(SQS.Channel):
    def _on_messages_ready(self, queue: str, qname: str, messages: dict[str, Any]) -> int:
        received = messages.get("Messages") or []
        free = self.qos.can_consume_max_estimate()
        if free is None or len(received) <= free:
            return super()._on_messages_ready(queue, qname, messages)
        self._hand_back(queue, qname, received[free:])
        return super()._on_messages_ready(queue, qname, {**messages, "Messages": received[:free]})

    def _hand_back(self, queue_url: str, qname: str, received: list[dict[str, Any]]) -> None:
        """Make messages this worker cannot start now visible to the others at once."""
        client = self.sqs(queue=self.canonical_queue_name(qname))
        for message in received:
            try:
                client.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"],
                                                 VisibilityTimeout=0)  # fmt: skip
            except Exception as exc:  # it shows again when its short hold ends
                log.warning("could not hand a message of %s back at once: %s", qname, exc)
        log.info("handed %d message(s) of %s back: this worker has no free slot", len(received), qname)

    def held(self) -> list[tuple[str, str]]:
        """(queue URL, receipt handle) of each message this worker holds unacknowledged."""
        try:
            delivered = list(self.qos._delivered.items())
        except RuntimeError:  # changed while copied (the event loop runs beside us): next time
            return []
        dirty = self.qos._dirty
        held = []
        for tag, message in delivered:
            info = getattr(message, "delivery_info", {}) or {}
            if tag not in dirty and "sqs_message" in info:
                held.append((info["sqs_queue"], info["sqs_message"]["ReceiptHandle"]))
        return held


class Transport(SQS.Transport):
    Channel = Channel


def use() -> None:
    """Make ``sqs://`` URLs mean this transport in this process (kombu reads the URL's
    scheme, whatever transport it is given). A kombu without the private names this
    transport relies on is refused here, naming them, rather than losing track of held
    messages later."""
    if gaps := kombu_gaps():
        raise ConfigError(
            "SQS as the broker needs kombu's private names that this kombu lacks ("
            + "; ".join(gaps)
            + "). Install the kombu that pyproject.toml pins, or update tasks/sqs_transport.py."
        )
    TRANSPORT_ALIASES["sqs"] = f"{__name__}:Transport"


def keep_held(
    channel_of: Callable[[], Any], hide: Callable[[str, str, int], None], hold_s: int, stop: threading.Event
) -> threading.Thread:
    """Three times in every ``hold_s``, hide again for ``hold_s`` each message the worker
    holds (``hide(queue_url, receipt, seconds)``), until ``stop``. ``channel_of`` gives the
    worker's current channel (a reconnect makes a new one). Whatever goes wrong in one
    round is logged and the next round tries again: a keeper that died would let every
    held message show to the other workers at each lease."""

    def renew() -> None:
        channel = channel_of()
        if not isinstance(channel, Channel):
            return
        for queue_url, receipt in channel.held():
            try:
                hide(queue_url, receipt, hold_s)
            except Exception as exc:  # acknowledged meanwhile, or SQS unreachable: next time
                log.debug("could not keep a message hidden: %s", exc)

    def loop() -> None:
        while not stop.wait(hold_s / 3):
            try:
                renew()
            except Exception:
                log.exception("could not renew the messages this worker holds; trying again in %.1f s",
                              hold_s / 3)  # fmt: skip

    thread = threading.Thread(target=loop, name="transcoder-sqs-keeper", daemon=True)
    thread.start()
    return thread
