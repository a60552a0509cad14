"""Two worker processes share the work: each part is run exactly once, one long video is
spread over both, and each video is closed exactly once."""

import json
import time

from tests.clips import make_clip
from tests.processes import wait_for
from tests.requests_to_api import upload, wait_terminal
from transcoder.records import redis_keys


def test_two_workers_share_jobs_and_run_each_part_once(system, workers, redis_client, lavfi_clip):
    ids = [upload(system, lavfi_clip).json()["id"] for _ in range(3)]
    videos = [wait_terminal(system, video_id) for video_id in ids]

    def runs(video_id: str) -> dict[str, int]:
        return {k.decode(): int(v) for k, v in redis_client.hgetall(redis_keys.runs_key(video_id)).items()}

    # `ready` is published by the last part; the close it enqueued runs just after.
    wait_for(lambda: all(runs(v).get("close") for v in ids), 30, "videos closed")
    time.sleep(1.5)  # time for any extra close to land, were one ever sent
    used = set()
    for video in videos:
        assert video["state"] == "ready"
        # Each part ran once, and the video was closed once: by the part whose end ended it.
        stored = json.loads(redis_client.get(redis_keys.video_key(video["id"])))
        expected = {p["id"]: 1 for p in stored["parts"]} | {"close": 1}
        assert runs(video["id"]) == expected
        for entry in stored["parts"]:
            assert entry["attempts"] == 1
            used.add(entry["worker"])
    assert used == set(workers)


def test_one_long_video_is_spread_over_both_workers(system, workers, redis_client, tmp_path):
    clip = make_clip(tmp_path / "long.mp4", size="640x360", seconds=40, audio=True)
    video = wait_terminal(system, upload(system, clip).json()["id"])
    assert video["state"] == "ready"
    stored = json.loads(redis_client.get(redis_keys.video_key(video["id"])))
    pictures = [p for p in stored["parts"] if p["kind"] == "video"]
    by_worker = {w: sum(p["worker"] == w for p in pictures) for w in workers}
    assert len(pictures) >= 4
    assert all(count >= 1 for count in by_worker.values()), by_worker
