"""Brokers for the tests: a vhost of a test's own on the machine's RabbitMQ (`make test`
installs and starts it), or SQS queues of its own on moto's standalone server, reached over
HTTP; either is dropped afterwards."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest

from tests.s3 import ACCESS_KEY, REGION, SECRET_KEY


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
