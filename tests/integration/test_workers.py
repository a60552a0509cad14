"""Two worker processes share the work: each part is run exactly once, one long video is
spread over both (the ffmpegs of its later parts at a lower priority), and each video is
closed exactly once."""

import json
import os
import re
import threading
from pathlib import Path

from tests.support.clips import make_clip
from tests.support.requests_to_api import upload, wait_terminal
from tests.support.system import each_part_ran_once
from transcoder.media.planner import LATER_NICENESS
from transcoder.records import redis_keys

#: A part's output folder in an ffmpeg's arguments: written under a temporary name.
PART_FOLDER = re.compile(rb"/videos/([0-9a-f]{32})/hls/[^/]+/\.([av][0-9]+)\.[0-9a-f]{32}\.part/")


def test_two_workers_share_jobs_and_run_each_part_once(
    system, workers, redis_client, service_env, lavfi_clip
):
    ids = [upload(system, lavfi_clip).json()["id"] for _ in range(3)]
    videos = [wait_terminal(system, video_id) for video_id in ids]
    assert [v["state"] for v in videos] == ["ready"] * 3
    assert each_part_ran_once(redis_client, ids, service_env) == set(workers)


def test_one_long_video_is_spread_over_both_workers(system, workers, redis_client, tmp_path):
    clip = make_clip(tmp_path / "long.mp4", size="640x360", seconds=40, audio=True)
    with FfmpegWatch() as watch:
        video = wait_terminal(system, upload(system, clip).json()["id"])
    assert video["state"] == "ready"
    stored = json.loads(redis_client.get(redis_keys.video_key(video["id"])))
    pictures = [p for p in stored["parts"] if p["kind"] == "video"]
    by_worker = {w: sum(p["worker"] == w for p in pictures) for w in workers}
    assert len(pictures) >= 4
    assert all(count >= 1 for count in by_worker.values()), by_worker
    # The parts playback waits for run at their worker's priority; every other part's ffmpeg
    # (seen by the operating system while it ran) lower, so on a busy machine they wait.
    seen = watch.lowered_by.get(video["id"], {})
    urgent = {p["id"] for p in stored["parts"] if p.get("urgent")}
    later = {part: lowered for part, lowered in seen.items() if part not in urgent}
    assert later, f"no later part's ffmpeg was seen running: {seen}"
    assert all(lowered == {LATER_NICENESS} for lowered in later.values()), seen
    assert all(seen[part] == {0} for part in urgent & seen.keys()), seen


class FfmpegWatch:
    """Looks at every running ffmpeg that writes a part (in /proc, every 50 ms): by video and
    part, how much lower than its parent's its priority was (as the kernel caps niceness at
    19, from a parent at 15 it can be only 4 lower: counted as the whole step)."""

    def __init__(self) -> None:
        self.lowered_by: dict[str, dict[str, set[int]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "FfmpegWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            for proc in Path("/proc").glob("[0-9]*"):
                try:
                    found = PART_FOLDER.search((proc / "cmdline").read_bytes())
                    if found is None:
                        continue
                    parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    nice = os.getpriority(os.PRIO_PROCESS, int(proc.name))
                    parents = os.getpriority(os.PRIO_PROCESS, parent)
                except (OSError, ValueError, IndexError):
                    continue  # it ended meanwhile
                video_id, part = found[1].decode(), found[2].decode()
                lowered = LATER_NICENESS if nice == 19 > parents else nice - parents
                self.lowered_by.setdefault(video_id, {}).setdefault(part, set()).add(lowered)
