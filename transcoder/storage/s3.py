"""Storage in an S3 bucket (AWS, MinIO, Ceph...), for web processes and workers that share no disk.

ffmpeg reads and writes local files only (``transcoder.media.policy`` forbids every
other protocol), so each process works in a scratch folder of its own: a worker
downloads the source there, encodes there, and uploads each output once it is
complete; the scratch copy is removed either way. An S3 object appears whole or
not at all, so readers never see half a file, and a re-run overwrites an output
with the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from transcoder.errors import StorageError, StoredFileMissing, Transient
from transcoder.storage import scratch
from transcoder.storage.base import CHUNK, Blob, check_key

#: Files above this go up in 16 MiB parts, several at once (S3 multipart upload).
TRANSFER = TransferConfig(multipart_threshold=16 * 1024**2, multipart_chunksize=16 * 1024**2)
UNREACHABLE = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionClosedError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
)


def make_client(endpoint_url: str, region: str, access_key_id: str, secret_access_key: str) -> Any:
    """A boto3 client; empty settings fall back to boto3's own chain (environment, instance role)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        aws_access_key_id=access_key_id or None,
        aws_secret_access_key=secret_access_key or None,
        config=Config(
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
            s3={"addressing_style": "path"} if endpoint_url else {},
        ),
    )


class S3Storage:
    def __init__(self, client: Any, bucket: str, prefix: str, scratch_dir: Path) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.scratch = Path(scratch_dir)
        self.scratch.mkdir(parents=True, exist_ok=True)

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    @contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        """boto3's errors as ours: a missing object, a refusal, or storage out of reach (worth a retry)."""
        try:
            yield
        except UNREACHABLE as exc:
            message = f"Object storage cannot be reached right now ({exc})."
            raise Transient(message, code="storage_unreachable") from exc
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchKey", "NotFound"):
                raise StoredFileMissing(f"The stored file {key!r} is missing.") from exc
            if code == "InvalidRange":
                raise StorageError(f"That byte range is not in {key!r}.", code="bad_range") from exc
            raise StorageError(f"Object storage refused {key!r}: {code or exc}") from exc

    def object_name(self, key: str) -> str:
        """The bucket's name for ``key`` (with this service's prefix), for code that speaks S3 itself."""
        return self._name(key)

    def errors(self, key: str) -> AbstractContextManager[None]:
        """boto3's errors about ``key`` as ours, for code that speaks S3 itself."""
        return self._errors(key)

    def put_file(self, key: str, path: Path) -> None:
        with self._errors(key):
            self.client.upload_file(str(path), self.bucket, self._name(key), Config=TRANSFER)

    @contextmanager
    def fetch(self, key: str) -> Iterator[Path]:
        """The object in a work folder of this process, removed afterwards; downloaded once per
        machine (keys are never rewritten with other bytes: an id names one upload)."""
        name = self._name(key)

        def download(path: Path) -> None:
            with self._errors(key):
                self.client.download_file(self.bucket, name, str(path), Config=TRANSFER)

        with scratch.folder(self.scratch) as folder:
            path = folder / Path(key).name
            scratch.link_cached(self.scratch, name, download, path)
            yield path

    @contextmanager
    def writing(self, key: str) -> Iterator[Path]:
        with scratch.folder(self.scratch) as folder:
            path = folder / Path(key).name
            yield path
            if not path.exists():
                raise StorageError(f"Nothing was written for {key!r}.")
            self.put_file(key, path)

    @contextmanager
    def writing_dir(self, prefix: str) -> Iterator[Path]:
        """Upload a finished folder file by file, playlists last, so a reader of a playlist
        finds every file it names."""
        with scratch.folder(self.scratch) as folder:
            target = folder / Path(prefix).name
            target.mkdir()
            yield target
            files = [p for p in target.rglob("*") if p.is_file()]
            files.sort(key=lambda p: (p.suffix == ".m3u8", p))
            for path in files:
                self.put_file(f"{prefix}/{path.relative_to(target).as_posix()}", path)

    def discard_partials(self, prefix: str) -> None:
        """Abort multipart uploads a killed writer left under ``prefix`` (they are never visible,
        but the bucket bills for their parts)."""
        with self._errors(prefix):
            pages = self.client.get_paginator("list_multipart_uploads")
            for page in pages.paginate(Bucket=self.bucket, Prefix=self._name(prefix)):
                for upload in page.get("Uploads", []):
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )

    def exists(self, key: str) -> bool:
        name = self._name(key)
        try:
            with self._errors(key):
                self.client.head_object(Bucket=self.bucket, Key=name)
        except StorageError:
            return False
        return True

    def delete_prefix(self, prefix: str) -> None:
        """Delete ``prefix`` and everything under ``prefix/`` (never ``prefix`` + other characters)."""
        name = self._name(prefix)
        with self._errors(prefix):
            self.client.delete_object(Bucket=self.bucket, Key=name)
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=name + "/"
            ):
                objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if objects:
                    self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
        self.discard_partials(prefix)

    def size_of(self, prefix: str) -> int:
        """Bytes of every object under ``prefix/`` (what a video keeps, for quotas)."""
        name = self._name(prefix)
        with self._errors(prefix):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=name + "/"
            )
            return sum(o["Size"] for page in pages for o in page.get("Contents", []))

    def local_path(self, key: str) -> Path | None:
        return None

    def read(self, key: str, byte_range: str | None = None) -> Blob:
        """The object, or the byte range an HTTP client asked for, streamed from the bucket."""
        extra = {"Range": byte_range} if byte_range else {}
        with self._errors(key):
            reply = self.client.get_object(Bucket=self.bucket, Key=self._name(key), **extra)
        content_range = reply.get("ContentRange")
        length = int(reply["ContentLength"])
        size = int(content_range.rsplit("/", 1)[1]) if content_range else length
        body = reply["Body"]
        return Blob(
            206 if content_range else 200,
            length,
            size,
            content_range,
            reply.get("ETag"),
            body.iter_chunks(CHUNK),
            body.close,
        )

    def check(self) -> None:
        """Raise unless the bucket answers (for /readyz)."""
        with self._errors(self.bucket):
            self.client.head_bucket(Bucket=self.bucket)
