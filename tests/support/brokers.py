"""Brokers for the tests: a vhost of a test's own on the machine's RabbitMQ (`make test`
installs and starts it), or SQS queues of its own on moto's standalone server, reached over
HTTP; either is dropped afterwards."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar
from urllib.parse import unquote, urlsplit

import boto3
import pytest
import redis

from tests.support.processes import wait_for
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY
from transcoder.records import redis_keys
from transcoder.settings import Settings

T = TypeVar("T")


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


@pytest.fixture(scope="session")
def sqs_endpoint(s3_port) -> str:
    """moto's standalone server answers for every AWS service: SQS as well as S3."""
    return f"http://127.0.0.1:{s3_port}"


def sqs_settings(endpoint: str, name: str) -> dict[str, str]:
    """The TRANSCODER_* settings (lower case) of an installation whose queues are on SQS,
    named apart from every other test's."""
    return {
        "broker_url": f"sqs://{ACCESS_KEY}:{SECRET_KEY}@",
        "sqs_endpoint_url": endpoint,
        "sqs_region": REGION,
        "sqs_queue_prefix": f"t{os.getpid()}-{name}-{uuid.uuid4().hex[:6]}-",
    }


def sqs_client(endpoint: str):
    return boto3.client("sqs", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY)  # fmt: skip


def sqs_queues(endpoint: str, prefix: str) -> set[str]:
    """The names of the SQS queues starting with ``prefix``, without it."""
    urls = sqs_client(endpoint).list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    return {url.rsplit("/", 1)[1][len(prefix) :] for url in urls}


def drop_sqs_queues(endpoint: str, prefix: str) -> None:
    client = sqs_client(endpoint)
    for url in client.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []):
        client.delete_queue(QueueUrl=url)


@contextmanager
def broker_settings(kind: str, name: str, endpoint: str = "") -> Iterator[dict[str, str]]:
    """The settings of an installation whose messages travel on ``kind`` (rabbitmq, sqs),
    on a vhost or queues of its own, dropped afterwards."""
    if kind == "rabbitmq":
        with rabbitmq_vhost(name) as url:
            yield {"broker_url": url}
        return
    settings = sqs_settings(endpoint, name)
    try:
        yield settings
    finally:
        drop_sqs_queues(endpoint, settings["sqs_queue_prefix"])


#: Every queue an installation's messages travel on, whatever its broker.
QUEUE_NAMES = (redis_keys.URGENT_QUEUE, *redis_keys.QUEUES)
#: SQS's counts of a queue's messages: waiting, taken by a worker and not yet deleted
#: (its task has not ended), and sent with a delay.
SQS_COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
              "ApproximateNumberOfMessagesDelayed"]  # fmt: skip


def messages_held(env: Mapping[str, str], videos: Collection[str] = ()) -> dict[str, int]:
    """The messages of the installation whose environment is ``env`` that its broker still
    holds, by queue: waiting, or taken by a worker and not acknowledged yet (tasks are
    acknowledged once they end, so a task under way counts). On Redis, kombu keeps the
    taken ones in its ``unacked`` hash, under the installation's prefix.

    ``videos``: on Redis, only the messages of these videos (a message names its video in
    its headers' ``argsrepr``), so a message an earlier trial's killed worker left taken
    (kombu gives it back only after its visibility timeout, an hour) is not waited for.
    RabbitMQ and SQS are not read message by message: every message counts there."""
    settings = Settings.from_env(env)
    url = settings.broker_url
    if url.startswith("sqs://"):
        client = sqs_client(settings.sqs_endpoint_url)
        held = {}
        for queue_url in client.list_queues(QueueNamePrefix=settings.sqs_queue_prefix).get("QueueUrls", []):
            name = queue_url.rsplit("/", 1)[1][len(settings.sqs_queue_prefix) :]
            found = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=SQS_COUNTS)["Attributes"]
            held[name] = sum(int(found[count]) for count in SQS_COUNTS)
        return held
    if url.startswith(("amqp://", "amqps://", "pyamqp://")):
        # `messages` is RabbitMQ's ready and unacknowledged messages together.
        vhost = unquote(urlsplit(url).path.removeprefix("/")) or "/"
        listed = rabbitmqctl("list_queues", "-p", vhost, "--no-table-headers", "name", "messages")
        rows = (line.split() for line in listed.splitlines())
        return {row[0]: int(row[1]) for row in rows if len(row) == 2 and row[0] in QUEUE_NAMES}
    client = redis.Redis.from_url(url)
    prefix = settings.redis_prefix or redis_keys.PREFIX
    ids = [v.encode() for v in videos]

    def counted(messages: list[bytes]) -> int:
        return sum(1 for m in messages if not ids or any(i in m for i in ids))

    held = {name: counted(client.lrange(f"{prefix}:{name}", 0, -1)) for name in QUEUE_NAMES}
    held["taken"] = counted(client.hvals(f"{prefix}:unacked"))
    return held


def settle(
    env: Mapping[str, str], read: Callable[[], T], timeout: float, what: str, videos: Collection[str] = ()
) -> T:
    """Wait until the installation whose environment is ``env`` has nothing left to do (its
    broker holds no message, waiting or taken: every task sent has ended) and ``read``
    returns the same on two reads in a row, each made with the queues empty; return it.
    ``videos``: the messages waited for are these videos' (see ``messages_held``).

    This is how a test proves that nothing more happens (a part sent twice is not run
    again, a close is not sent twice): the state it reads after the last task ended, not
    after a pause that a slow machine may not have waited out."""
    seen: list[T] = []

    def settled() -> bool:
        if any(messages_held(env, videos).values()):
            seen.clear()
            return False
        now = read()
        if seen and seen[0] == now:
            return True
        seen[:] = [now]
        return False

    wait_for(settled, timeout, f"{what} (the queues drained and the counts settled)")
    return seen[0]
