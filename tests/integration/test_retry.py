"""Retry re-runs the failed part alone: a video where exactly one part failed (its output could
not be stored) gets that part encoded again, then joined, and nothing else runs twice."""

from __future__ import annotations

import json

import requests

from tests.support.clips import make_clip
from tests.support.processes import start_worker
from tests.support.requests_to_api import upload, wait_terminal
from tests.support.system import side_system
from transcoder.records import redis_keys
from transcoder.storage.layout import part_prefix


def test_retry_runs_the_one_failed_part_alone(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", size="320x180", seconds=14, audio=True)
    with side_system(tmp_path, database=6) as side:
        video_id = upload(side.url, clip).json()["id"]
        # No worker yet: block where the second part's 144p segments go. A file where their
        # folder must be makes storing that part fail, and only it.
        blocker = tmp_path / "storage" / part_prefix(video_id, "144p", "v01")
        blocker.parent.mkdir(parents=True)
        blocker.write_text("in the way")
        start_worker(side.processes, side.env, "retry-w", "--without-gossip", "--without-mingle")
        failed = wait_terminal(side.url, video_id)
        assert failed["state"] == "failed", failed
        assert failed["error"]["code"] == "storage_error" and "144p" in failed["error"]["message"]

        def stored() -> dict:
            return json.loads(side.redis.get(redis_keys.video_key(video_id)))

        before = stored()
        assert {p["id"]: p["state"] for p in before["parts"]} == {
            "a64": "ready", "v00": "ready", "v01": "failed", "join": "queued"}  # fmt: skip
        blocker.unlink()
        retried = requests.post(f"{side.url}/api/videos/{video_id}/retry", timeout=10)
        assert retried.status_code == 202 and retried.json()["state"] == "processing"
        assert wait_terminal(side.url, video_id)["state"] == "ready"
        after = stored()
        runs = {k.decode(): int(v) for k, v in side.redis.hgetall(redis_keys.runs_key(video_id)).items()}
        assert (runs["a64"], runs["v00"], runs["v01"], runs["join"]) == (1, 1, 2, 1), runs
        # The parts that had succeeded were not touched: same start, one attempt.
        for name in ("a64", "v00"):
            old = next(p for p in before["parts"] if p["id"] == name)
            new = next(p for p in after["parts"] if p["id"] == name)
            assert (new["attempts"], new["started_at"]) == (1, old["started_at"])
        assert requests.get(side.url + f"/api/videos/{video_id}/renditions/144p.mp4", timeout=10).ok
