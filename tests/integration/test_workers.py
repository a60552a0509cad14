"""Two worker processes share the work, and each rung is encoded exactly once."""

import json

from tests.system import upload, wait_terminal
from transcoder import keys


def test_two_workers_share_jobs_and_run_each_rung_once(system, workers, redis_client, lavfi_clip):
    ids = [upload(system, lavfi_clip).json()["id"] for _ in range(3)]
    videos = [wait_terminal(system, video_id) for video_id in ids]

    used = set()
    for video in videos:
        assert video["state"] == "ready"
        runs = redis_client.hgetall(keys.runs_key(video["id"]))
        expected = {r["name"]: 1 for r in video["renditions"]} | {"previews": 1}
        assert {k.decode(): int(v) for k, v in runs.items()} == expected
        stored = json.loads(redis_client.get(keys.video_key(video["id"])))
        for entry in [*stored["renditions"], stored["previews"]]:
            assert entry["attempts"] == 1
            used.add(entry["worker"])
    assert used == set(workers)
