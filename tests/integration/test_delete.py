"""Delete removes a video for good: its work stopped, every file, its record; cancel keeps the record."""

from __future__ import annotations

import time

import redis
import requests

from tests.faults.observe import encoder_pids
from tests.integration.test_cli import run_cli
from tests.support.brokers import settle
from tests.support.processes import wait_for
from tests.support.requests_to_api import upload, wait_terminal
from tests.support.system import REDIS_URL
from transcoder.records import redis_keys


def gone(system: str, storage_dir, video_id: str) -> bool:
    listed = [v["id"] for v in requests.get(f"{system}/api/videos?limit=200", timeout=10).json()["videos"]]
    return (
        requests.get(f"{system}/api/videos/{video_id}", timeout=10).status_code == 404
        and video_id not in listed
        and not (storage_dir / "videos" / video_id).exists()
        and not redis.Redis.from_url(REDIS_URL).exists(redis_keys.video_key(video_id))
    )


def test_a_finished_video_is_deleted_with_every_file(system, storage_dir, data_dir):
    video_id = wait_terminal(system, upload(system, data_dir / "bikes.mp4").json()["id"])["id"]
    assert any((storage_dir / "videos" / video_id).rglob("*.mp4"))
    reply = requests.delete(f"{system}/api/videos/{video_id}", timeout=10)
    assert reply.status_code == 204 and reply.content == b""
    assert gone(system, storage_dir, video_id)
    again = requests.delete(f"{system}/api/videos/{video_id}", timeout=10)
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"


def test_deleting_during_an_encode_leaves_no_ffmpeg_no_file_no_record(
    system, storage_dir, service_env, long_clip
):
    video_id = upload(system, long_clip).json()["id"]
    wait_for(lambda: encoder_pids(video_id), 60, "an encode of the video running")
    asked = time.monotonic()
    assert requests.delete(f"{system}/api/videos/{video_id}", timeout=10).status_code == 204
    wait_for(lambda: not encoder_pids(video_id), 5, "every ffmpeg of the video stopped")
    assert time.monotonic() - asked < 5
    # Parts still queued are delivered and find nothing to do; nothing comes back.
    client = redis.Redis.from_url(REDIS_URL)
    settle(
        service_env,
        lambda: (
            client.hgetall(redis_keys.runs_key(video_id)),
            encoder_pids(video_id),
            gone(system, storage_dir, video_id),
        ),
        120,
        "the video's queued parts delivered",
        videos=[video_id],
    )
    assert not encoder_pids(video_id)
    assert gone(system, storage_dir, video_id)


def test_cancel_keeps_the_record_and_rm_deletes_it(system, storage_dir, long_clip):
    video_id = upload(system, long_clip).json()["id"]
    canceled = requests.post(f"{system}/api/videos/{video_id}/cancel", timeout=10)
    assert canceled.status_code == 200 and canceled.json()["state"] == "canceled"
    assert requests.get(f"{system}/api/videos/{video_id}", timeout=10).json()["state"] == "canceled"
    done = run_cli("rm", video_id, "--url", system)
    assert done.returncode == 0 and done.stdout.strip() == f"deleted {video_id}"
    assert gone(system, storage_dir, video_id)
    missing = run_cli("rm", video_id, "--url", system)
    assert missing.returncode == 2 and "not_found" in missing.stderr
