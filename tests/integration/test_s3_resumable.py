"""A tus upload with S3 storage whose PATCHes reach two web processes that share no folder:
its bytes gather in the bucket (one S3 multipart upload, the tail as an object), the last
PATCH probes it from there, and the video ends `ready` with hashlib's sha256, leaving no
staging object and no multipart upload behind."""

from __future__ import annotations

import hashlib
import os
import signal

import pytest
import requests

from tests.integration.test_tus import RawPatch, gunicorn_worker, resumed_within
from tests.support.clips import make_clip
from tests.support.processes import start_web, start_worker, wait_for
from tests.support.s3 import keys_in, new_bucket, s3_client, s3_settings
from tests.support.system import side_system
from transcoder.uploads.locks import TTL_S
from transcoder.uploads.s3_staging import PART_BYTES

pytestmark = pytest.mark.integration

MiB = 1024**2
TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = {**TUS, "Content-Type": "application/offset+octet-stream"}


@pytest.fixture(scope="module")
def two_webs(tmp_path_factory, s3_endpoint):
    root = tmp_path_factory.mktemp("s3tus")
    bucket = new_bucket(s3_endpoint)
    with side_system(root, database=13, **s3_settings(s3_endpoint, bucket)) as side:
        other = {**side.env, "TRANSCODER_SCRATCH_DIR": str(root / "web2-scratch")}
        side.second = start_web(side.processes, other, "s3tus-web2")
        start_worker(side.processes, side.env, "s3tus", "--without-gossip", "--without-mingle")
        side.bucket, side.root = bucket, root
        yield side


def patch(url: str, location: str, offset: int, data: bytes) -> requests.Response:
    path = location.split("/api/uploads/", 1)[1]
    headers = {**OCTETS, "Upload-Offset": str(offset)}
    return requests.patch(f"{url}/api/uploads/{path}", data=data, headers=headers, timeout=120)


def test_patches_on_two_web_processes_make_a_ready_video_from_the_bucket(two_webs, s3_endpoint, tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", size="1280x720", seconds=6, audio=True, crf=1)
    data = clip.read_bytes()
    assert len(data) > 2 * 5 * MiB  # whole parts, and a tail
    created = requests.post(
        f"{two_webs.url}/api/uploads/",
        headers={**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": "filename Y2xpcC5tcDQ="},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    # 1 byte, then 5 MiB + 1, then the rest, each on the other process than the one before.
    cuts = [0, 1, 5 * MiB + 2, len(data)]
    urls = [two_webs.url, two_webs.second, two_webs.url]
    for url, start, end in zip(urls, cuts[:-1], cuts[1:], strict=True):
        reply = patch(url, location, start, data[start:end])
        assert reply.status_code == 204, reply.text
        assert int(reply.headers["Upload-Offset"]) == end
        if end < len(data):  # gathering in the bucket, never in a web process's scratch folder
            assert any(k.startswith("uploads/") for k in keys_in(s3_endpoint, two_webs.bucket))
            assert not list(two_webs.root.glob("*scratch/resumable/*"))
    video_id = reply.headers["X-Video-Id"]

    def state() -> str:
        return requests.get(f"{two_webs.url}/api/videos/{video_id}", timeout=10).json()["state"]

    wait_for(lambda: state() in ("ready", "failed"), 120, f"video {video_id} ended")
    video = requests.get(f"{two_webs.second}/api/videos/{video_id}", timeout=10).json()
    assert video["state"] == "ready", video
    assert video["source"]["sha256"] == hashlib.sha256(data).hexdigest()
    source = s3_client(s3_endpoint).get_object(Bucket=two_webs.bucket, Key=f"videos/{video_id}/source")
    assert hashlib.sha256(source["Body"].read()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert not [k for k in keys_in(s3_endpoint, two_webs.bucket) if k.startswith("uploads/")]
    assert s3_client(s3_endpoint).list_multipart_uploads(Bucket=two_webs.bucket).get("Uploads", []) == []


def test_a_web_process_killed_mid_patch_keeps_its_parts(two_webs, s3_endpoint, tmp_path):
    """A web process killed (kill -9) with two parts of a PATCH in S3: they stay recorded
    (the offset is their total), the lock lapses within its TTL, and the upload goes on
    from there on the other process to a video whose sha256 is hashlib's."""
    clip = make_clip(tmp_path / "clip.mp4", size="1280x720", seconds=8, audio=True, crf=1)
    data = clip.read_bytes()
    assert len(data) > 2 * PART_BYTES + 3 * MiB
    created = requests.post(
        f"{two_webs.url}/api/uploads/",
        headers={**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": "filename a2lsbGVkLm1wNA=="},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    path = location.split("/api/uploads/", 1)[1]

    def offset() -> int:
        return int(requests.head(f"{two_webs.second}/api/uploads/{path}", headers=TUS, timeout=10)
                   .headers["Upload-Offset"])  # fmt: skip

    raw = RawPatch(two_webs.url, location, None, 0, len(data))
    cut = 2 * PART_BYTES + 2 * MiB
    raw.send(data[:cut])
    wait_for(lambda: offset() >= PART_BYTES, 30, "a part's checkpoint recorded")
    os.kill(gunicorn_worker(two_webs.processes.by_name[f"{two_webs.root.name}-web"].pid), signal.SIGKILL)
    raw.sock.close()
    at = offset()
    assert at in (PART_BYTES, 2 * PART_BYTES), at  # whole parts, no tail
    took = resumed_within(two_webs.second, location, at, TTL_S + 10)
    assert took <= TTL_S + 5, took
    reply = patch(two_webs.second, location, at, data[at:])
    assert reply.status_code == 204, reply.text
    video_id = reply.headers["X-Video-Id"]
    wait_for(
        lambda: (
            requests.get(f"{two_webs.url}/api/videos/{video_id}", timeout=10).json()["state"]
            in ("ready", "failed")
        ),
        120,
        f"video {video_id} ended",
    )
    video = requests.get(f"{two_webs.second}/api/videos/{video_id}", timeout=10).json()
    assert video["state"] == "ready", video
    assert video["source"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert s3_client(s3_endpoint).list_multipart_uploads(Bucket=two_webs.bucket).get("Uploads", []) == []
