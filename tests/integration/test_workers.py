"""Two worker processes share the work: each part is run exactly once, one long video is
spread over both, and each video is closed exactly once."""

import json

from tests.clips import make_clip
from tests.requests_to_api import upload, wait_terminal
from tests.system import each_part_ran_once
from transcoder.records import redis_keys


def test_two_workers_share_jobs_and_run_each_part_once(
    system, workers, redis_client, service_env, lavfi_clip
):
    ids = [upload(system, lavfi_clip).json()["id"] for _ in range(3)]
    videos = [wait_terminal(system, video_id) for video_id in ids]
    assert [v["state"] for v in videos] == ["ready"] * 3
    assert each_part_ran_once(redis_client, ids, service_env) == set(workers)


def test_one_long_video_is_spread_over_both_workers(system, workers, redis_client, tmp_path):
    clip = make_clip(tmp_path / "long.mp4", size="640x360", seconds=40, audio=True)
    video = wait_terminal(system, upload(system, clip).json()["id"])
    assert video["state"] == "ready"
    stored = json.loads(redis_client.get(redis_keys.video_key(video["id"])))
    pictures = [p for p in stored["parts"] if p["kind"] == "video"]
    by_worker = {w: sum(p["worker"] == w for p in pictures) for w in workers}
    assert len(pictures) >= 4
    assert all(count >= 1 for count in by_worker.values()), by_worker
