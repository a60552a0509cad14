"""A resumable upload's bytes gathered in the S3 bucket, so a ``PATCH`` may reach any web machine.

One S3 multipart upload per resumable upload, created at ``begin`` at the staging key
``uploads/<upload id>/source``. S3 takes parts of at least 5 MiB (all but the last), and a
``PATCH`` may bring any number of bytes, so each ``append`` sends whole 5 MiB parts as
they fill and keeps the bytes past the last whole part as a small object of its own, the
tail (``uploads/<upload id>/tail/<offset>``); the next ``append``, on whichever machine,
reads the tail back and continues from it. At most two parts are in memory at once: one goes up
while the body fills the other.

The state the catalog keeps with the upload (``ResumableUploadRow.staging``) names the
multipart upload, its parts (number, ETag, size) and the tail's size: the parts and the
tail it names are the upload's bytes, and anything else under the upload's folder is a
leftover of an append whose new state was never recorded, removed by the next call.
Each tail goes to a new key (named by the offset it ends at), so the tail the catalog
names is never overwritten.

``finish`` sends the tail as the last part by a copy inside S3, completes the multipart
upload, and hands ffprobe a URL it presigned for the object (``policy.SignedUrl``), so
the probe reads the few bytes it needs from the bucket instead of a 1 GiB download.
``keep`` copies the object to the video's source key inside S3 (parallel ranged copies of
128 MiB parts: on AWS seconds for 1 GiB, and no byte passes through the web machine). An S3 lifecycle rule
(AbortIncompleteMultipartUpload) catches what an expiry sweep would miss: docs/operations.md.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import botocore.exceptions
from boto3.s3.transfer import TransferConfig

from transcoder.errors import ConfigError, StorageError
from transcoder.media.policy import SignedUrl
from transcoder.settings import Settings
from transcoder.storage.base import CHUNK, Storage
from transcoder.storage.layout import staging_key, staging_prefix, staging_tail_key
from transcoder.storage.s3 import S3Storage
from transcoder.uploads.staging import Checkpoint
from transcoder.work.actions import Staged

log = logging.getLogger(__name__)
_ID = re.compile(r"[0-9a-f]{32}")

#: S3's smallest part (all parts but the last); each whole part goes up as soon as it fills.
PART_BYTES = 5 * 1024**2
#: S3's most parts in one multipart upload: with 5 MiB parts, uploads up to 48.8 GiB.
MAX_PARTS = 10_000
#: ``keep`` copies inside S3 in ranged parts of 128 MiB, ten at once (one CopyObject below 64 MiB).
COPY = TransferConfig(multipart_threshold=64 * 1024**2, multipart_chunksize=128 * 1024**2, max_concurrency=10)
#: How long ffprobe's URL for the staged object stays valid (a probe takes seconds).
URL_SECONDS = 15 * 60


def offset_of(state: dict[str, Any]) -> int:
    """The bytes an upload's state holds: its parts, then its tail."""
    return sum(int(p["size"]) for p in state["parts"]) + int(state["tail"])


class S3Staging:
    """``transcoder.uploads.staging.Staging`` in the bucket of an ``S3Storage``."""

    def __init__(self, settings: Settings, storage: Storage, part_bytes: int = PART_BYTES) -> None:
        if not isinstance(storage, S3Storage):
            raise ConfigError("S3 staging needs TRANSCODER_STORAGE=s3.")
        if settings.max_upload_bytes > MAX_PARTS * part_bytes:
            raise ConfigError(
                f"TRANSCODER_MAX_UPLOAD_BYTES is {settings.max_upload_bytes}, but a resumable upload "
                f"staged in S3 holds at most {MAX_PARTS} parts of {part_bytes} bytes "
                f"({MAX_PARTS * part_bytes}); lower it."
            )
        self.storage = storage
        self.client = storage.client
        self.bucket = storage.bucket
        self.part_bytes = part_bytes

    def begin(self, upload_id: str) -> dict[str, Any]:
        """Start the upload's S3 multipart upload; its id is the state's ``upload``."""
        key = self._key(upload_id)
        with self.storage.errors(key):
            reply = self.client.create_multipart_upload(Bucket=self.bucket, Key=self._name(key))
        return {"upload": reply["UploadId"], "parts": [], "tail": 0}

    def append(
        self,
        upload_id: str,
        state: dict[str, Any],
        offset: int,
        chunks: Iterable[bytes],
        checkpoint: Checkpoint | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Send ``chunks`` on from ``offset``: whole parts as they fill, the rest as a new tail.

        ``chunks`` ending early (a dropped connection) keeps every byte that came. Should S3
        fail part-way, the error rises and the recorded state still holds: parts this call
        sent are sent again, under the same numbers, by the next one. ``checkpoint`` is
        called once each part is in S3, with the parts so far and no tail (the tail this
        call read is in them), so a process killed mid-body loses at most two parts.
        """
        self._key(upload_id)
        parts, tail_from, tail = self._cut(upload_id, state, offset)
        self._drop_stale_tails(upload_id, keep=tail_from if tail else None)
        # Two parts' rooms, each filled in place and sent as it is: one goes up (in a thread)
        # while the body fills the other, so the client's bytes keep coming during a part's
        # upload, and the web process holds two parts, however long the upload.
        room, spare = bytearray(self.part_bytes), bytearray()
        filled = 0
        if tail:
            room[:tail] = self._read(upload_id, tail_from, tail)
            filled = tail
        number = len(parts) + 1
        sending: Future[dict[str, Any]] | None = None

        def settle(part: Future[dict[str, Any]]) -> None:
            """The part going up is in S3: a checkpoint (parts so far, no tail)."""
            parts.append(part.result())
            if checkpoint is not None:
                done = {"upload": state["upload"], "parts": [dict(p) for p in parts], "tail": 0}
                checkpoint(offset_of(done), done)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3-part") as sender:
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    count = min(len(view), self.part_bytes - filled)
                    room[filled : filled + count] = view[:count]
                    filled += count
                    view = view[count:]
                    if filled == self.part_bytes:
                        if sending is not None:
                            settle(sending)  # its room is free again
                        sending = sender.submit(self._send_part, upload_id, state["upload"], number, room)
                        number += 1
                        room, spare = spare or bytearray(self.part_bytes), room
                        filled = 0
                if sending is not None and sending.done():
                    settle(sending)  # as soon as it is up, not when the next part fills
                    sending = None
            if sending is not None:
                parts.append(sending.result())
        new = {"upload": state["upload"], "parts": parts, "tail": filled}
        end = offset_of(new)
        if filled and (end, filled) != (tail_from, tail):  # a tail other than the stored one
            key = staging_tail_key(upload_id, end)
            with self.storage.errors(key):
                self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=bytes(room[:filled]))
        return end, new

    @contextmanager
    def finish(
        self, upload_id: str, state: dict[str, Any], size: int, sha256: str | None
    ) -> Iterator[Staged]:
        """Complete the multipart upload (the tail as its last part) and yield it as a ``Staged``
        that ffprobe reads by a presigned URL; the upload's folder goes when the ``with`` ends."""
        if offset_of(state) != size:
            raise StorageError(
                f"Upload {upload_id} holds {offset_of(state)} bytes in object storage, not {size}."
            )
        key = self._key(upload_id)
        name = self._name(key)
        try:
            self._complete(upload_id, state, size)
            if sha256 is None:
                sha256 = self._hash(key)
            with self.storage.errors(key):
                url = self.client.generate_presigned_url(
                    "get_object", Params={"Bucket": self.bucket, "Key": name}, ExpiresIn=URL_SECONDS
                )

            def keep(target: str) -> None:
                # A copy inside S3: no byte of the upload passes through this machine.
                with self.storage.errors(target):
                    self.client.copy(
                        {"Bucket": self.bucket, "Key": name},
                        self.bucket,
                        self._name(target),
                        Config=COPY,
                    )

            yield Staged(
                path=SignedUrl(url),
                size=size,
                sha256=sha256,
                keep=keep,
                discard=lambda: self.discard(upload_id, state),
            )
        finally:
            self.discard(upload_id, state)

    def discard(self, upload_id: str, state: dict[str, Any]) -> None:
        """Abort the multipart upload and remove the upload's folder (tails, staged object);
        harmless twice, and after ``finish`` or ``keep``."""
        key = self._key(upload_id)
        try:
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self._name(key), UploadId=state["upload"]
            )
        except botocore.exceptions.ClientError as exc:
            if _code(exc) not in ("NoSuchUpload", "404"):
                with self.storage.errors(key):
                    raise
        self.storage.delete_prefix(staging_prefix(upload_id))

    def _name(self, key: str) -> str:
        return self.storage.object_name(key)

    def _key(self, upload_id: str) -> str:
        if not _ID.fullmatch(upload_id):  # never a key outside the upload's folder
            raise StorageError(f"Not an upload id: {upload_id[:40]!r}")
        return staging_key(upload_id)

    def _cut(
        self, upload_id: str, state: dict[str, Any], offset: int
    ) -> tuple[list[dict[str, Any]], int, int]:
        """The parts and tail (the offset it ends at, and how many of its bytes) that hold the
        upload's first ``offset`` bytes: what an append continues from.

        Going back (a PATCH whose bytes must not be kept, handed the state it made) finds the
        tail an earlier state recorded at ``offset``: a tail is never overwritten, and the
        one the catalog names outlives the appends after it until their state is recorded.
        """
        stored = offset_of(state)
        parts = [dict(p) for p in state["parts"]]
        if offset == stored:
            return parts, stored, int(state["tail"])
        if offset > stored:
            raise StorageError(f"Upload {upload_id} holds {stored} bytes in object storage, not {offset}.")
        whole = sum(int(p["size"]) for p in parts)
        kept = len(parts)
        while parts and whole > offset:
            whole -= int(parts.pop()["size"])
        left = offset - whole
        if left == 0:
            return parts, offset, 0
        if self._tail_size(upload_id, offset) == left:
            return parts, offset, left
        if len(parts) == kept:  # within this state's tail: its first bytes
            return parts, stored, left
        raise StorageError(
            f"Upload {upload_id} cannot go back to byte {offset}: object storage keeps it in whole parts."
        )

    def _tail_size(self, upload_id: str, end: int) -> int | None:
        key = staging_tail_key(upload_id, end)
        try:
            with self.storage.errors(key):
                return int(self.client.head_object(Bucket=self.bucket, Key=self._name(key))["ContentLength"])
        except StorageError:
            return None

    def _read(self, upload_id: str, tail_end: int, length: int) -> bytes:
        """The first ``length`` bytes of the tail that ends at ``tail_end`` (less than a part)."""
        key = staging_tail_key(upload_id, tail_end)
        with self.storage.errors(key):
            reply = self.client.get_object(
                Bucket=self.bucket, Key=self._name(key), Range=f"bytes=0-{length - 1}"
            )
            data = bytes(reply["Body"].read())
        if len(data) != length:
            raise StorageError(f"The stored tail {key!r} holds {len(data)} bytes, not {length}.")
        return data

    def _drop_stale_tails(self, upload_id: str, keep: int | None) -> None:
        """Remove the tails the state does not name: left by an append whose new state was
        never recorded, or the one the last append read and replaced."""
        folder = staging_tail_key(upload_id, 0).rsplit("/", 1)[0]
        kept = self._name(staging_tail_key(upload_id, keep)) if keep is not None else None
        with self.storage.errors(folder):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._name(folder) + "/"
            )
            stale = [
                {"Key": o["Key"]} for page in pages for o in page.get("Contents", []) if o["Key"] != kept
            ]
            if stale:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": stale, "Quiet": True})

    def _send_part(self, upload_id: str, upload: str, number: int, body: bytearray) -> dict[str, Any]:
        if number > MAX_PARTS:
            raise StorageError(
                f"Upload {upload_id} is past {MAX_PARTS} parts of {self.part_bytes} bytes, "
                "the most one S3 multipart upload holds."
            )
        key = self._key(upload_id)
        with self.storage.errors(key):
            reply = self.client.upload_part(
                Bucket=self.bucket, Key=self._name(key), UploadId=upload, PartNumber=number, Body=body
            )
        return {"n": number, "etag": reply["ETag"], "size": len(body)}

    def _complete(self, upload_id: str, state: dict[str, Any], size: int) -> None:
        """Complete the multipart upload, the tail copied in as its last part (S3 allows a small
        last part); a second call (a retried last PATCH) finds it done."""
        key = self._key(upload_id)
        name = self._name(key)
        parts = [{"PartNumber": int(p["n"]), "ETag": p["etag"]} for p in state["parts"]]
        try:
            with self.storage.errors(key):
                if state["tail"]:
                    self._drop_stale_tails(upload_id, keep=size)
                    tail = self._name(staging_tail_key(upload_id, size))
                    reply = self.client.upload_part_copy(
                        Bucket=self.bucket, Key=name, UploadId=state["upload"], PartNumber=len(parts) + 1,
                        CopySource={"Bucket": self.bucket, "Key": tail},
                    )  # fmt: skip
                    parts.append({"PartNumber": len(parts) + 1, "ETag": reply["CopyPartResult"]["ETag"]})
                if parts:
                    self.client.complete_multipart_upload(
                        Bucket=self.bucket,
                        Key=name,
                        UploadId=state["upload"],
                        MultipartUpload={"Parts": parts},
                    )
                else:  # an empty upload: S3 completes none, so store an empty object
                    self.client.put_object(Bucket=self.bucket, Key=name, Body=b"")
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=state["upload"])
        except StorageError:
            if self._stored_size(key) != size:
                raise

    def _stored_size(self, key: str) -> int | None:
        try:
            with self.storage.errors(key):
                head = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except StorageError:
            return None
        return int(head["ContentLength"])

    def _hash(self, key: str) -> str:
        """The staged object's sha256, read once from the bucket (when the hash's state was in
        no single process: PATCHes reached several)."""
        digest = hashlib.sha256()
        with self.storage.errors(key):
            body = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
            for chunk in body.iter_chunks(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
