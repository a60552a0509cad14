"""The autoscaler with real processes: 20 videos queued, --max 4 --per-worker 2. It must reach 4
workers, every video must end ready with each part run once (no encode killed), and it must
come back to the minimum by stopping idle workers."""

from __future__ import annotations

import json

import pytest
import requests

from tests.support.clips import make_clip
from tests.support.processes import BIN, wait_for
from tests.support.requests_to_api import upload
from tests.support.system import side_system
from transcoder.records import redis_keys

VIDEOS = 20


def decisions(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text(errors="replace").splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    with side_system(tmp_path_factory.mktemp("autoscale"), database=11) as side:
        argv = [str(BIN / "transcoder"), "autoscale", "--min", "1", "--max", "4", "--per-worker", "2",
                "--interval", "0.5", "--cooldown", "3"]  # fmt: skip
        proc, log = side.processes.start("autoscaler", argv, side.env)
        yield side.redis, side.url, proc, log


def test_autoscaler_follows_the_queue_and_kills_no_encode(scaled, tmp_path, artifacts_dir):
    client, url, proc, log = scaled
    wait_for(lambda: any(d["workers"] == 1 for d in decisions(log)), 30, "first worker", proc, log)
    clip = make_clip(tmp_path / "small.mp4", size="320x180", seconds=2, audio=True)
    ids = [upload(url, clip).json()["id"] for _ in range(VIDEOS)]

    def all_ended():
        states = [requests.get(f"{url}/api/videos/{i}", timeout=10).json()["state"] for i in ids]
        return all(s in ("ready", "failed", "canceled") for s in states) and states

    states = wait_for(all_ended, 300, "all videos ending", proc, log)
    assert states == ["ready"] * VIDEOS
    for video_id in ids:  # each part ran once: nothing was killed and run again
        record = json.loads(client.get(redis_keys.video_key(video_id)))
        assert [p["attempts"] for p in record["parts"]] == [1] * len(record["parts"])

    wait_for(
        lambda: (d := decisions(log)) and d[-1]["workers"] == 1 and d[-1]["stopping"] == 0,
        120, "scaling back to the minimum", proc, log,
    )  # fmt: skip
    seen = decisions(log)
    (artifacts_dir / "autoscale.jsonl").write_text("".join(json.dumps(d) + "\n" for d in seen))
    assert max(d["workers"] for d in seen) == 4
    assert max(d["target"] for d in seen) == 4
    started = [name for d in seen for name in d["started"]]
    stopped = [name for d in seen for name in d["stopped"]]
    assert len(started) == 4 and len(stopped) == 3 and set(stopped) < set(started)
    assert proc.poll() is None
