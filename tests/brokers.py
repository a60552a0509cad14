"""RabbitMQ for the tests: a vhost of a test's own on the machine's RabbitMQ (`make test`
installs and starts it), dropped afterwards."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


def rabbitmqctl(*args: str) -> str:
    argv = ["rabbitmqctl", "-q", *args]
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout


@contextmanager
def rabbitmq_vhost(name: str) -> Iterator[str]:
    """The AMQP URL of a fresh vhost (guest may use it), deleted on the way out."""
    vhost = f"transcoder-{name}-{os.getpid()}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        rabbitmqctl("delete_vhost", vhost)


def queues_of(url: str) -> set[str]:
    """The queues RabbitMQ holds in the vhost of ``url``."""
    listed = rabbitmqctl("list_queues", "-p", url.rsplit("/", 1)[1], "--no-table-headers", "name")
    return set(listed.split())
