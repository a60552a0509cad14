"""Both storage backends keep the same promises: whole objects only, ranges, deletes that stay in
their folder, scratch cleaned. S3 is moto's server over HTTP, reached through boto3."""

from __future__ import annotations

import os

import pytest

from tests.support.s3 import keys_in, new_bucket, s3_client, s3_settings, seed
from transcoder.errors import StorageError, Transient
from transcoder.services import open_storage
from transcoder.settings import Settings
from transcoder.storage import scratch


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    extra = {}
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        extra = s3_settings(endpoint, new_bucket(endpoint), prefix="tenant-a")
    settings = Settings.from_env(
        {}, storage_dir=tmp_path / "storage", scratch_dir=tmp_path / "scratch", **extra
    )
    return open_storage(settings)


def scratch_left(tmp_path) -> list:
    """Work folders left behind (the download cache is meant to stay)."""
    folder = tmp_path / "scratch"
    return [p for p in folder.iterdir() if p.name != "cache"] if folder.exists() else []


def test_put_fetch_and_ranges(storage, tmp_path):
    src = tmp_path / "upload"
    src.write_bytes(bytes(range(256)) * 1000)
    storage.put_file("videos/a1/source", src)
    assert storage.exists("videos/a1/source")
    with storage.fetch("videos/a1/source") as local:
        assert local.read_bytes() == bytes(range(256)) * 1000
    whole = storage.read("videos/a1/source")
    assert (whole.status, whole.length, whole.size) == (200, 256000, 256000)
    assert b"".join(whole.chunks) == bytes(range(256)) * 1000
    if storage.local_path("videos/a1/source") is None:  # the web app proxies ranges only for buckets
        part = storage.read("videos/a1/source", "bytes=256-511")
        assert (part.status, part.length, part.size, part.content_range) == (
            206,
            256,
            256000,
            "bytes 256-511/256000",
        )
        assert b"".join(part.chunks) == bytes(range(256))
        with pytest.raises(StorageError) as refused:
            storage.read("videos/a1/source", "bytes=999999-")
        assert refused.value.code == "bad_range"
    assert scratch_left(tmp_path) == []


def test_a_failed_write_leaves_nothing(storage, tmp_path):
    with pytest.raises(RuntimeError), storage.writing("videos/a2/144p.mp4") as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("encoder died")
    assert not storage.exists("videos/a2/144p.mp4")
    with pytest.raises(StorageError, match="missing"), storage.fetch("videos/a2/144p.mp4"):
        pass
    assert scratch_left(tmp_path) == []


def test_folders_appear_whole_and_deletes_stay_in_their_folder(storage, tmp_path):
    with storage.writing_dir("videos/b1/hls/144p") as folder:
        (folder / "index.m3u8").write_text("#EXTM3U\n")
        (folder / "seg_00001.m4s").write_bytes(b"x" * 10)
    storage.put_file("videos/b10/source", _file(tmp_path / "other", b"keep me"))
    assert storage.exists("videos/b1/hls/144p/index.m3u8") and storage.exists(
        "videos/b1/hls/144p/seg_00001.m4s"
    )
    storage.delete_prefix("videos/b1")
    assert not storage.exists("videos/b1/hls/144p/index.m3u8")
    assert storage.exists("videos/b10/source")
    assert scratch_left(tmp_path) == []


def test_keys_cannot_leave_storage(storage):
    for key in ("../etc/passwd", "/etc/passwd", "videos/../../x", "videos//x"):
        with pytest.raises(StorageError):
            storage.exists(key)
        with pytest.raises(StorageError):
            storage.delete_prefix(key)


def test_large_files_go_up_in_parts(s3_endpoint, tmp_path):
    bucket = new_bucket(s3_endpoint)
    storage = open_storage(
        Settings.from_env({}, scratch_dir=tmp_path / "scratch", **s3_settings(s3_endpoint, bucket))
    )
    big = _file(tmp_path / "big", os.urandom(1024) * (20 * 1024))  # 20 MiB: above the 16 MiB threshold
    storage.put_file("videos/d1/source", big)
    head = s3_client(s3_endpoint).head_object(Bucket=bucket, Key="videos/d1/source")
    assert head["ContentLength"] == 20 * 1024**2 and head["ETag"].strip('"').endswith("-2")  # two parts
    with storage.fetch("videos/d1/source") as copy:
        assert copy.read_bytes() == big.read_bytes()


def test_sources_are_downloaded_once_per_machine_and_evicted_when_unused(s3_endpoint, tmp_path):
    bucket = new_bucket(s3_endpoint)
    settings = Settings.from_env({}, scratch_dir=tmp_path / "scratch", **s3_settings(s3_endpoint, bucket))
    storage = open_storage(settings)
    storage.put_file("videos/e1/source", _file(tmp_path / "src", b"the source"))
    with storage.fetch("videos/e1/source") as first:
        s3_client(s3_endpoint).delete_object(Bucket=bucket, Key="videos/e1/source")
        with storage.fetch("videos/e1/source") as second:  # from this machine's copy, not the bucket
            assert first.read_bytes() == second.read_bytes() == b"the source"
            assert first.stat().st_ino == second.stat().st_ino
            (cached,) = (tmp_path / "scratch" / "cache").glob("*[0-9a-f]")
            assert scratch.clean(tmp_path / "scratch", cache_seconds=3600) == []
            assert scratch.clean(tmp_path / "scratch", cache_seconds=-1) == [cached]
            assert second.read_bytes() == b"the source"  # eviction never pulls a file from running work
    with pytest.raises(StorageError, match="missing"), storage.fetch("videos/e1/source"):
        pass
    assert scratch_left(tmp_path) == [] and list((tmp_path / "scratch" / "cache").glob("*[0-9a-f]")) == []
    scratch.clean(tmp_path / "scratch")
    assert list((tmp_path / "scratch" / "cache").iterdir()) == []  # the failed download's lock too


def test_a_video_with_more_files_than_one_listing_page_is_deleted_whole(s3_endpoint, tmp_path):
    """S3 lists at most 1,000 keys a page, and a long video's segments fill more than one:
    every page is deleted, not only the first."""
    bucket = new_bucket(s3_endpoint)
    store = open_storage(
        Settings.from_env({}, scratch_dir=tmp_path / "scratch", **s3_settings(s3_endpoint, bucket))
    )
    segments = [f"videos/m1/hls/144p/v{n // 100:02d}/seg_{n:05d}.m4s" for n in range(1001)]
    seed(bucket, [*segments, "videos/m10/source"])
    store.delete_prefix("videos/m1")
    assert keys_in(s3_endpoint, bucket) == ["videos/m10/source"]


def test_s3_keys_sit_under_the_prefix(s3_endpoint, tmp_path):
    bucket = new_bucket(s3_endpoint)
    settings = Settings.from_env(
        {}, scratch_dir=tmp_path / "scratch", **s3_settings(s3_endpoint, bucket, prefix="/tenant-b/")
    )
    open_storage(settings).put_file("videos/c1/source", _file(tmp_path / "f", b"data"))
    listed = s3_client(s3_endpoint).list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["tenant-b/videos/c1/source"]


def test_unreachable_object_storage_is_a_passing_failure(tmp_path):
    from tests.support.processes import free_port

    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = Settings.from_env({}, scratch_dir=tmp_path / "scratch", **s3_settings(endpoint, "nowhere"))
    storage = open_storage(settings)
    storage.client.meta.config.retries = {"max_attempts": 1}
    with pytest.raises(Transient) as caught:
        storage.check()
    assert caught.value.code == "storage_unreachable"


def _file(path, data: bytes):
    path.write_bytes(data)
    return path
