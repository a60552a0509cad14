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
short (a part's lease, ``TRANSCODER_LEASE_SECONDS``), while every live worker keeps what it
holds hidden by renewing it (``keep_held``). A killed worker's messages come back within
that time, as its parts' leases lapse; what it was running the sweeper sends again too,
and whichever copy comes second finds the part done or running elsewhere.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kombu.transport import SQS, TRANSPORT_ALIASES

log = logging.getLogger(__name__)


def hold_seconds(lease_seconds: float) -> int:
    """Seconds a received message stays hidden unless its worker renews it: a lease's
    length, in whole seconds as SQS takes them."""
    return max(1, round(lease_seconds))


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
    scheme, whatever transport it is given)."""
    TRANSPORT_ALIASES["sqs"] = f"{__name__}:Transport"


def keep_held(channel_of: Any, client: Any, hold_s: int, stop: threading.Event) -> threading.Thread:
    """Three times in every ``hold_s``, hide again for ``hold_s`` each message the worker
    holds, until ``stop``. ``channel_of`` gives the worker's current channel (a reconnect
    makes a new one)."""

    def loop() -> None:
        while not stop.wait(hold_s / 3):
            channel = channel_of()
            if not isinstance(channel, Channel):
                continue
            for queue_url, receipt in channel.held():
                try:
                    client.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt,
                                                     VisibilityTimeout=hold_s)  # fmt: skip
                except Exception as exc:  # acknowledged meanwhile, or SQS unreachable: next time
                    log.debug("could not keep a message hidden: %s", exc)

    thread = threading.Thread(target=loop, name="transcoder-sqs-keeper", daemon=True)
    thread.start()
    return thread
