"""A real S3 HTTP endpoint for the tests: moto's standalone server, reached only through boto3.

It listens on every address so that workers in their own network namespaces
(tests/support/hosts.py) reach it over their virtual link, as worker machines would.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from transcoder.storage.s3 import make_client

from .processes import free_port

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_port() -> int:
    port = free_port()
    server = ThreadedMotoServer(ip_address="0.0.0.0", port=port, verbose=False)
    server.start()
    yield port
    server.stop()


@pytest.fixture(scope="session")
def s3_endpoint(s3_port) -> str:
    return f"http://127.0.0.1:{s3_port}"


def s3_client(endpoint: str):
    return make_client(endpoint, REGION, ACCESS_KEY, SECRET_KEY)


def new_bucket(endpoint: str) -> str:
    name = f"videos-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def s3_settings(endpoint: str, bucket: str, prefix: str = "") -> dict[str, str]:
    """The TRANSCODER_* settings (lower case, as tests.support.system.environment takes them) for S3."""
    return {
        "storage": "s3",
        "s3_bucket": bucket,
        "s3_prefix": prefix,
        "s3_endpoint_url": endpoint,
        "s3_region": REGION,
        "s3_access_key_id": ACCESS_KEY,
        "s3_secret_access_key": SECRET_KEY,
    }


def keys_in(endpoint: str, bucket: str) -> list[str]:
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def seed(bucket: str, keys: list[str], body: bytes = b"x") -> None:
    """Put objects straight into the moto server's memory (it runs in this process): a
    thousand keys in a blink, where a thousand PUTs over HTTP take seconds. The code under
    test still reads, lists and deletes them through boto3."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for key in keys:
        backend.put_object(bucket, key, body)


def download(endpoint: str, bucket: str, key: str, folder: Path, keep_name: bool = False) -> Path:
    path = folder / (key.rsplit("/", 1)[-1] if keep_name else key.replace("/", "_"))
    s3_client(endpoint).download_file(bucket, key, str(path))
    return path


def ffprobe_json(path: Path) -> str:
    return subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_format", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
