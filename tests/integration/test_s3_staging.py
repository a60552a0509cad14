"""A resumable upload gathered in the S3 bucket (moto's server over HTTP): PATCHes of any size
from any machine build the exact bytes, a cut PATCH keeps what came, the probe reads the
staged object from the bucket, and nothing is left once the upload is kept or dropped."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator

import pytest

from tests.support.clips import make_clip
from tests.support.s3 import keys_in, new_bucket, s3_client, s3_settings
from transcoder.errors import ConfigError, StorageError
from transcoder.media import policy
from transcoder.media.probe import probe_and_scan
from transcoder.services import open_storage
from transcoder.settings import Settings
from transcoder.uploads import staging
from transcoder.uploads.s3_staging import PART_BYTES, S3Staging

MiB = 1024**2
PREFIX = "tenant-a"


@pytest.fixture
def bucket(s3_endpoint) -> str:
    return new_bucket(s3_endpoint)


def machine(s3_endpoint: str, bucket: str, tmp_path, name: str) -> S3Staging:
    """One web machine's staging: its own client, its own scratch folder."""
    settings = Settings.from_env(
        {}, scratch_dir=tmp_path / name, **s3_settings(s3_endpoint, bucket, prefix=PREFIX)
    )
    chosen = staging.of(settings, open_storage(settings))
    assert isinstance(chosen, S3Staging)
    return chosen


def pieces(data: bytes, size: int = 100_003) -> Iterator[bytes]:
    """A body as the web layer hands it on: chunks of an odd size."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def uploads_in(s3_endpoint: str, bucket: str) -> list[dict]:
    return s3_client(s3_endpoint).list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def test_patches_of_any_size_from_two_machines_build_the_exact_bytes(s3_endpoint, bucket, tmp_path):
    machines = [machine(s3_endpoint, bucket, tmp_path, n) for n in ("web-a", "web-b")]
    sizes = [1, 3 * MiB, 5 * MiB + 1, 12 * MiB, 7]
    data = os.urandom(sum(sizes))
    upload_id = uuid.uuid4().hex
    state = machines[0].begin(upload_id)
    offset = 0
    for turn, size in enumerate(sizes):
        offset_was = offset
        offset, state = machines[turn % 2].append(
            upload_id, state, offset, pieces(data[offset : offset + size])
        )
        assert offset == offset_was + size
        assert [p["size"] for p in state["parts"]] == [PART_BYTES] * (offset // PART_BYTES)
        assert state["tail"] == offset % PART_BYTES
        tails = [k for k in keys_in(s3_endpoint, bucket) if "/tail/" in k]
        assert len(tails) <= 2  # the tail this append read goes at the next call
        assert (f"{PREFIX}/uploads/{upload_id}/tail/{offset}" in tails) == bool(state["tail"])

    with machines[1].finish(upload_id, state, len(data), None) as staged:  # hash lost: read once more
        assert staged.sha256 == hashlib.sha256(data).hexdigest()
        assert staged.size == len(data)
        assert isinstance(staged.path, policy.SignedUrl)
        staged.keep("videos/v1/source")
    body = s3_client(s3_endpoint).get_object(Bucket=bucket, Key=f"{PREFIX}/videos/v1/source")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data).hexdigest()
    assert keys_in(s3_endpoint, bucket) == [f"{PREFIX}/videos/v1/source"]
    assert uploads_in(s3_endpoint, bucket) == []


def test_a_patch_cut_short_keeps_every_byte_that_came(s3_endpoint, bucket, tmp_path):
    web_a, web_b = (machine(s3_endpoint, bucket, tmp_path, n) for n in ("web-a", "web-b"))
    data = os.urandom(13 * MiB + 12345)
    upload_id = uuid.uuid4().hex
    state = web_a.begin(upload_id)

    def dropped(body: bytes, after: int) -> Iterator[bytes]:
        """The web layer's chunks when the client's connection drops after ``after`` bytes."""
        yield from pieces(body[:after])

    cut = 7 * MiB + 3
    offset, state = web_a.append(upload_id, state, 0, dropped(data, cut))
    assert offset == cut and len(state["parts"]) == 1 and state["tail"] == cut - PART_BYTES
    offset, state = web_b.append(upload_id, state, offset, pieces(data[offset:]))
    assert offset == len(data)
    digest = hashlib.sha256(data).hexdigest()
    with web_a.finish(upload_id, state, len(data), digest) as staged:
        assert staged.sha256 == digest
        staged.keep("videos/v2/source")
    body = s3_client(s3_endpoint).get_object(Bucket=bucket, Key=f"{PREFIX}/videos/v2/source")["Body"].read()
    assert body == data


def test_an_append_whose_state_was_not_recorded_is_written_again(s3_endpoint, bucket, tmp_path):
    """The catalog kept the state before the last append (its row update failed): the next
    append starts from the recorded offset, and what the lost one stored is dropped."""
    web = machine(s3_endpoint, bucket, tmp_path, "web")
    data = os.urandom(9 * MiB)
    upload_id = uuid.uuid4().hex
    state = web.begin(upload_id)
    offset, recorded = web.append(upload_id, state, 0, pieces(data[: 2 * MiB]))
    web.append(upload_id, recorded, offset, pieces(os.urandom(4 * MiB)))  # its state is lost
    offset, state = web.append(upload_id, recorded, offset, pieces(data[offset:]))
    assert offset == len(data)
    with web.finish(upload_id, state, len(data), None) as staged:
        assert staged.sha256 == hashlib.sha256(data).hexdigest()
    # Back inside the tail works; back across a part it cannot rebuild is a clear error.
    state = web.begin(upload_id)
    offset, state = web.append(upload_id, state, 0, pieces(data[: 6 * MiB]))
    offset, state = web.append(upload_id, state, 5 * MiB + 10, pieces(data[5 * MiB + 10 : 6 * MiB]))
    assert offset == 6 * MiB and state["tail"] == MiB
    with pytest.raises(StorageError, match="whole parts"):
        web.append(upload_id, state, 3, pieces(data[3:10]))
    web.discard(upload_id, state)


def test_a_patch_refused_after_its_bytes_were_sent_keeps_nothing(s3_endpoint, bucket, tmp_path):
    """A body past the upload's length, a checksum mismatch: the caller hands back the state
    the append made, with the offset recorded before it, and nothing of the body stays."""
    web = machine(s3_endpoint, bucket, tmp_path, "web")
    data = os.urandom(16 * MiB)
    upload_id = uuid.uuid4().hex
    state = web.begin(upload_id)
    offset, recorded = web.append(upload_id, state, 0, pieces(data[: 3 * MiB]))
    for refused in (os.urandom(4 * MiB), os.urandom(MiB)):  # across a part boundary, within the tail
        reached, made = web.append(upload_id, recorded, offset, pieces(refused))
        back, state = web.append(upload_id, made, offset, ())
        assert (back, state) == (offset, recorded)
    offset, state = web.append(upload_id, recorded, offset, pieces(data[offset:]))
    with web.finish(upload_id, state, len(data), None) as staged:
        assert staged.sha256 == hashlib.sha256(data).hexdigest()


def test_discard_leaves_no_object_and_no_multipart_upload(s3_endpoint, bucket, tmp_path):
    web = machine(s3_endpoint, bucket, tmp_path, "web")
    upload_id = uuid.uuid4().hex
    state = web.begin(upload_id)
    web.append(upload_id, state, 0, pieces(os.urandom(6 * MiB)))
    assert keys_in(s3_endpoint, bucket) and uploads_in(s3_endpoint, bucket)
    web.discard(upload_id, state)
    web.discard(upload_id, state)  # harmless twice
    assert keys_in(s3_endpoint, bucket) == []
    assert uploads_in(s3_endpoint, bucket) == []


def test_finish_probes_a_clip_from_the_bucket_and_keeps_it_at_a_source_key(s3_endpoint, bucket, tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", size="640x360", seconds=3, audio=True, crf=10)
    data = clip.read_bytes()
    web_a, web_b = (machine(s3_endpoint, bucket, tmp_path, n) for n in ("web-a", "web-b"))
    upload_id = uuid.uuid4().hex
    state = web_a.begin(upload_id)
    half = len(data) // 2
    offset, state = web_a.append(upload_id, state, 0, pieces(data[:half]))
    offset, state = web_b.append(upload_id, state, offset, pieces(data[half:]))
    with web_b.finish(upload_id, state, len(data), hashlib.sha256(data).hexdigest()) as staged:
        media, found = probe_and_scan(staged.path)
        assert (media.width, media.height, media.has_audio) == (640, 360, True)
        assert abs(found.duration - 3) < 0.1
        staged.keep("videos/v3/source")
        staged.discard()  # what the caller does on every outcome: the kept source stays
    assert keys_in(s3_endpoint, bucket) == [f"{PREFIX}/videos/v3/source"]
    body = s3_client(s3_endpoint).get_object(Bucket=bucket, Key=f"{PREFIX}/videos/v3/source")["Body"].read()
    assert body == data
    assert uploads_in(s3_endpoint, bucket) == []


def test_a_file_that_is_not_a_video_is_refused_from_the_bucket(s3_endpoint, bucket, tmp_path):
    from transcoder.errors import InvalidInput

    web = machine(s3_endpoint, bucket, tmp_path, "web")
    upload_id = uuid.uuid4().hex
    state = web.begin(upload_id)
    offset, state = web.append(upload_id, state, 0, [b"#EXTM3U\n#EXTINF:1,\nhttp://example.com/x.ts\n"])
    with web.finish(upload_id, state, offset, None) as staged, pytest.raises(InvalidInput):
        probe_and_scan(staged.path)
    assert keys_in(s3_endpoint, bucket) == [] and uploads_in(s3_endpoint, bucket) == []


def test_a_largest_upload_past_what_s3_staging_holds_is_refused_at_start(s3_endpoint, bucket, tmp_path):
    settings = Settings.from_env(
        {}, scratch_dir=tmp_path, max_upload_bytes=50 * 1024**3, **s3_settings(s3_endpoint, bucket)
    )
    with pytest.raises(ConfigError, match="TRANSCODER_MAX_UPLOAD_BYTES"):
        staging.of(settings, open_storage(settings))
