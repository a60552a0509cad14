"""Fault trials against real processes: each kills or breaks something mid-job and checks
that no video is lost, stuck, duplicated or left half-written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis
import requests

from tasks.celery import make_celery
from tasks.workflow import send_part
from tests.system import send_half_an_upload, upload
from transcoder import keys
from transcoder.client import Client
from transcoder.settings import Settings

from .conftest import TRIALS, Cluster, cluster_env, record, wait

RUNS = range(TRIALS)


def api(cluster: Cluster, video_id: str) -> dict:
    return requests.get(f"{cluster.url}/api/videos/{video_id}", timeout=10).json()


def pids_with(*words: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if all(word in cmdline for word in words):
            found.append(int(entry.name))
    return found


def encoder_pids(video_id: str) -> list[int]:
    return pids_with("ffmpeg", f"videos/{video_id}/source")


def stored(storage: Path) -> list[str]:
    folder = storage / "videos"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def running_rung(cluster: Cluster, video_id: str) -> dict:
    """Wait until a rung is encoding (ffmpeg started, progress reported) and return it."""

    def find():
        video = api(cluster, video_id)
        rungs = [r for r in video["renditions"] if r["state"] == "running" and r["progress"] > 0]
        return rungs[0] if rungs and encoder_pids(video_id) else None

    return wait(find, 60, "a rung running")


def worker_of(cluster: Cluster, redis_url: str, video_id: str, rung: str) -> str:
    stored = json.loads(redis.Redis.from_url(redis_url).get(keys.video_key(video_id)))
    return next(e for e in stored["renditions"] if e["name"] == rung)["worker"].split("@")[0]


def finished(cluster: Cluster, video_id: str, timeout: float = 120) -> dict:
    def ended():
        video = api(cluster, video_id)
        return video if video["state"] in ("ready", "failed", "canceled") else None

    return wait(ended, timeout, f"video {video_id} ending")


def assert_clean_ready(cluster: Cluster, storage: Path, video_id: str, tmp_path: Path) -> None:
    video = finished(cluster, video_id)
    assert video["state"] == "ready", video["error"]
    folder = storage / "videos" / video_id
    assert not [p for p in folder.rglob("*") if p.name.endswith(".part")], "a partial file was left"
    for rendition in video["renditions"]:
        out = tmp_path / f"{rendition['name']}.mp4"
        out.write_bytes(requests.get(cluster.url + rendition["url"], timeout=30).content)
        duration = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                                         "csv=p=0", str(out)], capture_output=True, text=True,
                                        check=True).stdout)  # fmt: skip
        assert abs(duration - video["source"]["duration"]) <= 0.02 * video["source"]["duration"] + 0.1
    wait(lambda: not encoder_pids(video_id), 10, "no ffmpeg left for the video")


def trial(name: str):
    """Record the outcome of one run of a trial, pass or fail."""

    def wrap(test):
        def run(*args, **kwargs):
            try:
                test(*args, **kwargs)
            except BaseException:
                record(name, False)
                raise
            record(name, True)

        run.__name__ = test.__name__
        run.__wrapped__ = test
        return run

    return wrap


@pytest.mark.parametrize("run", RUNS)
@trial("1. SIGKILL the pool process running a rung")
def test_kill_pool_process(run, cluster, fault_redis, fault_storage, clip, tmp_path):
    video_id = upload(cluster.url, clip).json()["id"]
    rung = running_rung(cluster, video_id)
    main = cluster.workers[worker_of(cluster, fault_redis.url, video_id, rung["name"])].pid
    [child] = [pid for pid in children(main) if pid in pids_with("celery")]
    os.kill(child, signal.SIGKILL)
    assert_clean_ready(cluster, fault_storage, video_id, tmp_path)


@pytest.mark.parametrize("run", RUNS)
@trial("2. SIGKILL a whole worker, start a new one")
def test_kill_whole_worker(run, cluster, fault_redis, fault_storage, clip, tmp_path):
    video_id = upload(cluster.url, clip).json()["id"]
    rung = running_rung(cluster, video_id)
    cluster.kill_worker(worker_of(cluster, fault_redis.url, video_id, rung["name"]))
    killed_at = time.monotonic()
    cluster.start_worker()
    assert_clean_ready(cluster, fault_storage, video_id, tmp_path)
    assert time.monotonic() - killed_at < 90, "taken up only after a long timeout"


@pytest.mark.parametrize("run", RUNS)
@trial("3. SIGKILL ffmpeg only")
def test_kill_ffmpeg(run, cluster, fault_storage, clip, tmp_path):
    video_id = upload(cluster.url, clip).json()["id"]
    running_rung(cluster, video_id)
    for pid in encoder_pids(video_id)[:1]:
        os.kill(pid, signal.SIGKILL)
    assert_clean_ready(cluster, fault_storage, video_id, tmp_path)


@pytest.mark.parametrize("run", RUNS)
@trial("4. Redis stopped mid-job (SHUTDOWN NOSAVE, AOF) and started again")
def test_redis_restart(run, cluster, fault_redis, fault_storage, clip, data_dir, tmp_path):
    video_id = upload(cluster.url, clip).json()["id"]
    running_rung(cluster, video_id)
    fault_redis.crash()
    time.sleep(1)
    fault_redis.start()
    assert_clean_ready(cluster, fault_storage, video_id, tmp_path)
    # The workers consume again: a video sent after the restart is done too.
    after = upload(cluster.url, data_dir / "bikes.mp4").json()["id"]
    assert finished(cluster, after)["state"] == "ready"


@pytest.mark.parametrize("run", RUNS)
@trial("5. ffmpeg stalled (SIGSTOP)")
def test_stalled_ffmpeg(run, cluster, fault_storage, clip, tmp_path):
    video_id = upload(cluster.url, clip).json()["id"]
    running_rung(cluster, video_id)
    [pid, *_] = pids_with("ffmpeg", f"videos/{video_id}/source", "libx264")
    os.kill(pid, signal.SIGSTOP)
    stopped_at = time.monotonic()
    wait(lambda: pid not in encoder_pids(video_id), 15, "the watchdog killing the stalled ffmpeg")
    assert time.monotonic() - stopped_at < 3 + 5
    assert_clean_ready(cluster, fault_storage, video_id, tmp_path)


@pytest.mark.parametrize("run", RUNS)
@trial("6. Cancel mid-encode")
def test_cancel(run, cluster, fault_storage, clip):
    video_id = upload(cluster.url, clip).json()["id"]
    running_rung(cluster, video_id)
    asked = time.monotonic()
    response = requests.delete(f"{cluster.url}/api/videos/{video_id}", timeout=10)
    assert response.status_code == 200 and response.json()["state"] == "canceled"
    wait(lambda: not encoder_pids(video_id), 2, "every ffmpeg of the video stopped")
    assert time.monotonic() - asked < 2.5
    wait(lambda: not (fault_storage / "videos" / video_id).exists(), 10, "the video's files removed")
    time.sleep(2)  # queued rungs come and go without starting anything
    assert not encoder_pids(video_id) and not (fault_storage / "videos" / video_id).exists()
    assert api(cluster, video_id)["state"] == "canceled"


@pytest.mark.parametrize("run", RUNS)
@trial("7. Disk full (storage on a small tmpfs)")
def test_disk_full(run, fault_redis, processes, clip, tmp_path):
    storage = tmp_path / "small"
    storage.mkdir()
    size_kib = clip.stat().st_size // 1024 + 400
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(storage)], check=True)
    try:
        small = Cluster(processes, cluster_env(fault_redis.url.rsplit("/", 1)[0] + "/1", storage))
        name = small.start_worker()
        video_id = upload(small.url, clip).json()["id"]
        video = finished(small, video_id)
        assert video["state"] == "failed"
        assert video["error"]["code"] in ("storage_full", "storage_error"), video["error"]
        assert "disk" in video["error"]["message"]
        for rendition in video["renditions"]:
            if rendition["state"] == "ready":
                assert requests.get(small.url + rendition["url"], timeout=10).ok
        assert not [p for p in storage.rglob("*") if p.name.endswith(".part")]
        small.kill_worker(name)
    finally:
        subprocess.run(["umount", "-l", str(storage)], check=False)


@pytest.mark.parametrize("run", RUNS)
@trial("8. The same rung task delivered twice at once")
def test_duplicate_delivery(run, cluster, fault_redis, fault_storage, data_dir, tmp_path):
    client = redis.Redis.from_url(fault_redis.url)
    events = client.pubsub()
    events.psubscribe(keys.events_channel("*"))
    video_id = upload(cluster.url, data_dir / "bikes.mp4").json()["id"]
    celery = make_celery(Settings.from_env({}, redis_url=fault_redis.url))
    send_part(celery, video_id, "144p")
    send_part(celery, video_id, "144p")
    assert_clean_ready(cluster, fault_storage, video_id, tmp_path)
    time.sleep(2)
    readies = 0
    while (message := events.get_message(timeout=0.5)) is not None:
        if message["type"] == "pmessage" and message["channel"].decode().endswith(video_id):
            readies += json.loads(message["data"])["state"] == "ready"
    events.close()
    assert readies == 1
    assert int(client.hget(keys.runs_key(video_id), "144p")) == 3
    assert sorted(p.name for p in (fault_storage / "videos" / video_id).glob("144p*")) == ["144p.mp4"]


@pytest.mark.parametrize("run", RUNS)
@trial("9. The event stream's pub/sub connection killed mid-job")
def test_pubsub_killed(run, cluster, fault_redis, clip):
    video_id = upload(cluster.url, clip).json()["id"]
    seen: list[dict] = []
    reader = threading.Thread(target=lambda: seen.extend(Client(cluster.url)._stream(video_id)), daemon=True)
    reader.start()
    wait(lambda: any(r["progress"] > 0 for v in seen for r in v["renditions"]), 60, "progress on the stream")
    assert redis.Redis.from_url(fault_redis.url).client_kill_filter(_type="pubsub") >= 1
    reader.join(120)
    assert seen[-1]["state"] == "ready"
    for name in [r["name"] for r in seen[-1]["renditions"]]:
        bars = [r["progress"] for v in seen for r in v["renditions"] if r["name"] == name]
        assert bars == sorted(bars)
    assert [v["seq"] for v in seen] == sorted(v["seq"] for v in seen)


@pytest.mark.parametrize("run", RUNS)
@trial("10. Client disconnects mid-upload")
def test_client_disconnect(run, cluster, fault_redis, fault_storage, clip):
    client = redis.Redis.from_url(fault_redis.url)
    before = (stored(fault_storage), client.zcard(keys.VIDEOS_INDEX))
    send_half_an_upload(cluster.url, clip)
    time.sleep(1.5)
    assert (stored(fault_storage), client.zcard(keys.VIDEOS_INDEX)) == before


def test_redis_down_at_upload_is_a_503_and_leaves_nothing(cluster, fault_redis, fault_storage, data_dir):
    before = stored(fault_storage)
    fault_redis.crash()
    try:
        response = upload(cluster.url, data_dir / "bikes.mp4")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "unavailable"
        assert stored(fault_storage) == before
    finally:
        fault_redis.start()
    video_id = upload(cluster.url, data_dir / "bikes.mp4").json()["id"]
    assert finished(cluster, video_id)["state"] == "ready"
