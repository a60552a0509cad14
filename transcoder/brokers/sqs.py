"""Amazon SQS as the broker (``sqs://``).

SQS hides a message a worker received for the queue's visibility timeout, and hands it out
again only then. That timeout is short here (a part's lease), and each live worker keeps
what it holds hidden by renewing it (``tasks.sqs_transport``), so a dead worker's messages
come back as soon as its leases lapse, not after the longest run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import boto3
import botocore.exceptions
import redis
from botocore.config import Config

from transcoder.brokers.base import CONNECT_TIMEOUT_S, Broker
from transcoder.errors import ConfigError, Unavailable
from transcoder.settings import PREFIX, SQS_SCHEME

#: SQS: seconds one receive waits for a message before it answers empty (long polling: a
#: message is taken the moment it arrives, and an idle worker asks each queue about six
#: times a minute); and seconds between looks at a queue while the worker is busy (no
#: request is made then, so a short wait costs nothing, and a slot that frees up is
#: filled at once) or after an empty answer.
SQS_WAIT_S = 10
SQS_POLL_S = 0.01

T = TypeVar("T")


class SQS(Broker):
    schemes = (SQS_SCHEME,)
    keeps_order = False
    #: kombu's SQS transport receives through pycurl.
    extra = ("sqs", "pycurl")

    def waiting(self, client: redis.Redis, names: Iterable[str]) -> dict[str, int]:
        """SQS's ``ApproximateNumberOfMessages`` of each queue."""

        def count(sqs: Any, name: str) -> int:
            try:
                queue_url = sqs.get_queue_url(QueueName=self.settings.sqs_queue_prefix + name)["QueueUrl"]
            except sqs.exceptions.QueueDoesNotExist:
                return 0
            found = sqs.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            )
            return int(found["Attributes"]["ApproximateNumberOfMessages"])

        names = list(names)
        return self._call(lambda sqs: {name: count(sqs, name) for name in names})

    def check(self, client: redis.Redis) -> None:
        prefix = self.settings.sqs_queue_prefix
        self._call(lambda sqs: sqs.list_queues(QueueNamePrefix=prefix, MaxResults=1))

    def celery_url(self) -> str:
        """kombu takes the endpoint from the URL's host, so SQS_ENDPOINT_URL's host and port
        join the keys there."""
        url, endpoint = self.settings.broker_url, self.settings.sqs_endpoint_url
        if not endpoint:
            return url
        keys = urlsplit(url).netloc.rpartition("@")[0]
        return f"sqs://{keys + '@' if keys else ''}{urlsplit(endpoint).netloc}"

    def transport_options(self) -> dict[str, Any]:
        """Each queue's visibility timeout, set when a worker first makes it, is a lease's
        length (``hold_seconds``); its queues are named with SQS_QUEUE_PREFIX."""
        settings = self.settings
        options: dict[str, Any] = {
            "region": settings.sqs_region,
            "queue_name_prefix": settings.sqs_queue_prefix,
            "visibility_timeout": self.hold_seconds,
            "wait_time_seconds": SQS_WAIT_S,
            "polling_interval": SQS_POLL_S,
        }
        if settings.sqs_endpoint_url:
            options["is_secure"] = settings.sqs_endpoint_url.startswith("https://")
        return options

    @property
    def hold_seconds(self) -> int:
        """A lease's length, in whole seconds as SQS takes them."""
        return max(1, round(self.settings.lease_seconds))

    def hide(self, queue_url: str, receipt: str, seconds: int) -> None:
        self.client.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt,
                                              VisibilityTimeout=seconds)  # fmt: skip

    @cached_property
    def client(self) -> Any:
        """A boto3 SQS client: the keys in the URL (sqs://KEY:SECRET@), else boto3's own
        chain; SQS_ENDPOINT_URL, else AWS's endpoint for SQS_REGION."""
        settings = self.settings
        parts = urlsplit(settings.broker_url)
        return boto3.client(
            "sqs",
            endpoint_url=settings.sqs_endpoint_url or None,
            region_name=settings.sqs_region or None,
            aws_access_key_id=unquote(parts.username) if parts.username else None,
            aws_secret_access_key=unquote(parts.password) if parts.password else None,
            config=Config(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=10, retries={"max_attempts": 2}),
        )

    def _call(self, call: Callable[[Any], T]) -> T:
        try:
            return call(self.client)
        except botocore.exceptions.NoCredentialsError as exc:
            raise ConfigError(
                f"{PREFIX}BROKER_URL is sqs:// but no AWS credentials were found: put them in the URL "
                "(sqs://KEY:SECRET@) or where boto3 looks (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "~/.aws, an instance role)"
            ) from exc
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise Unavailable(f"The broker does not answer: {exc}") from exc
