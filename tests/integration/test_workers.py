"""Two worker processes share the work, each rung is encoded exactly once, and each video is
closed exactly once."""

import json
import time

from tests.system import upload, wait_for, wait_terminal
from transcoder import keys


def test_two_workers_share_jobs_and_run_each_rung_once(system, workers, redis_client, lavfi_clip):
    ids = [upload(system, lavfi_clip).json()["id"] for _ in range(3)]
    videos = [wait_terminal(system, video_id) for video_id in ids]

    def runs(video_id: str) -> dict[str, int]:
        return {k.decode(): int(v) for k, v in redis_client.hgetall(keys.runs_key(video_id)).items()}

    # `ready` is published by the last part; the close it enqueued runs just after.
    wait_for(lambda: all(runs(v).get("close") for v in ids), 30, "videos closed")
    time.sleep(1.5)  # time for any extra close to land, were one ever sent
    used = set()
    for video in videos:
        assert video["state"] == "ready"
        # Each part ran once, and the video was closed once: by the part whose end ended it.
        expected = {r["name"]: 1 for r in video["renditions"]} | {"previews": 1, "close": 1}
        assert runs(video["id"]) == expected
        stored = json.loads(redis_client.get(keys.video_key(video["id"])))
        for entry in [*stored["renditions"], stored["previews"]]:
            assert entry["attempts"] == 1
            used.add(entry["worker"])
    assert used == set(workers)
