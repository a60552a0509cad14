"""kombu's SQS transport, receiving for one queue at a time.

kombu polls each of a worker's SQS queues on its own: with ``urgent``, ``parts`` and
``finalize`` polled at once, each poll may come back with a message, and a worker with one
free slot then holds up to three. A held message waits behind the encode running before it,
and a worker killed outright keeps its held messages from every other worker until SQS's
visibility timeout (hours) ends. Redis (one blocking pop over all queues) and RabbitMQ
(the server enforces the prefetch) never hand a worker more than it can start.

This channel keeps one receive in flight across all its queues, and starts one only while
the worker has a free slot; each queue waits its turn. A worker thus holds no more than it
runs, as on the other brokers, and what a dead worker ran the sweeper sends again.
"""

from __future__ import annotations

import time
from typing import Any

from kombu.transport import SQS, TRANSPORT_ALIASES
from vine import promise

#: Seconds after which a receive that never answered is taken as lost (kombu's own timeout
#: on a long poll is far shorter), so one lost answer cannot stop the worker receiving.
RECEIVE_DEADLINE_S = 60.0
#: Seconds a queue waits before asking again for its turn.
TURN_S = 0.05


class Channel(SQS.Channel):
    _receiving_since: float | None = None

    def _schedule_queue(self, queue: str) -> None:
        if queue not in self._active_queues:
            return
        since = self._receiving_since
        busy = since is not None and time.monotonic() - since < RECEIVE_DEADLINE_S
        if busy or not self.qos.can_consume():
            self.hub.call_later(TURN_S, self._schedule_queue, queue)
            return
        self._receiving_since = time.monotonic()
        self._get_bulk_async(queue, callback=promise(self._received, (queue,)))

    def _received(self, queue: str, messages_fetched: Any = None) -> None:
        self._receiving_since = None
        self._loop1(queue, messages_fetched)


class Transport(SQS.Transport):
    Channel = Channel


def use() -> None:
    """Make ``sqs://`` URLs mean this transport in this process (kombu reads the URL's
    scheme, whatever transport it is given)."""
    TRANSPORT_ALIASES["sqs"] = f"{__name__}:Transport"
