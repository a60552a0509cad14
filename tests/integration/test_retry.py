"""Retry re-runs the failed part alone: a video where exactly one rung failed (its output could
not be stored) gets that rung encoded again, and nothing else runs twice."""

from __future__ import annotations

import json

import requests

from tests.system import side_system, start_worker, upload, wait_terminal
from transcoder import keys, storage


def test_retry_runs_the_one_failed_rung_alone(tmp_path, data_dir):
    with side_system(tmp_path, database=6) as side:
        video_id = upload(side.url, data_dir / "bikes.mp4").json()["id"]
        # No worker yet: block the 240p output before anything runs. A folder where the
        # MP4 must go makes storing it fail, and only it.
        blocker = tmp_path / "storage" / storage.rendition_key(video_id, "240p")
        blocker.mkdir(parents=True)
        start_worker(side.processes, side.env, "retry-w", "--without-gossip", "--without-mingle")
        failed = wait_terminal(side.url, video_id)
        states = {r["name"]: r["state"] for r in failed["renditions"]}
        assert (failed["state"], states) == ("failed", {"144p": "ready", "240p": "failed"}), failed
        assert failed["error"]["code"] == "storage_error" and "240p" in failed["error"]["message"]

        def stored() -> dict:
            return json.loads(side.redis.get(keys.video_key(video_id)))

        before = stored()
        blocker.rmdir()
        retried = requests.post(f"{side.url}/api/videos/{video_id}/retry", timeout=10)
        assert retried.status_code == 202 and retried.json()["state"] == "processing"
        assert wait_terminal(side.url, video_id)["state"] == "ready"
        after = stored()
        runs = {k.decode(): int(v) for k, v in side.redis.hgetall(keys.runs_key(video_id)).items()}
        assert (runs["144p"], runs["previews"], runs["240p"]) == (1, 1, 2), runs
        # The parts that had succeeded were not touched: same start, same worker, one attempt.
        for name in ("144p",):
            old = next(r for r in before["renditions"] if r["name"] == name)
            new = next(r for r in after["renditions"] if r["name"] == name)
            assert (new["attempts"], new["started_at"]) == (1, old["started_at"])
        assert after["previews"]["started_at"] == before["previews"]["started_at"]
        assert requests.get(side.url + f"/api/videos/{video_id}/renditions/240p.mp4", timeout=10).ok
