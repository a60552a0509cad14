"""Fault trials against real processes: each kills or breaks something mid-job and checks
that no video is lost, stuck, duplicated or left half-written.

Every trial proves that its fault landed on the part it targets while that part was at
work (the process it kills exists and belongs to that part; the part is running, part
way through), and that the mechanism did its job (the part ran again, once; a killed
worker's ffmpeg was gone within 2 s; a duplicate was turned away by the lease).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
import requests
import websocket
from celery import Celery

from tasks.celery import make_celery
from tasks.config import PART_TASK
from tests.support.brokers import settle
from tests.support.pace import scaled
from tests.support.processes import RedisServer
from tests.support.requests_to_api import send_half_an_upload, upload, uploads_answered
from tests.support.system import recorded
from transcoder.client import Client
from transcoder.records import redis_keys
from transcoder.settings import Settings
from transcoder.work.retry import backoff_seconds

from .checks import (
    api,
    assert_clean_ready,
    assert_ran_again_once,
    encoding,
    finished,
    kill_and_time_orphan,
    slowed,
    trial,
    worker_main_of,
)
from .conftest import TRIALS, Cluster, cluster_env, limit_s, measure, wait
from .observe import (
    alive,
    attempts,
    encoder_pids,
    files,
    parent_of,
    part_encoder,
    part_of,
    runs,
    stored,
)

RUNS = range(TRIALS)


@pytest.mark.parametrize("run", RUNS)
@trial("1. SIGKILL the pool process running a part whose ffmpeg is stuck")
def test_kill_pool_process(run, cluster, fault_redis, fault_storage, clip, tmp_path):
    """An ffmpeg that still writes progress dies of a broken pipe once its reader is gone; one
    that is stuck (here: stopped) writes nothing, so only PR_SET_PDEATHSIG can end it."""
    video_id = upload(cluster.url, clip).json()["id"]
    part, ffmpeg_pid = encoding(cluster, fault_redis.url, video_id)
    pool = parent_of(ffmpeg_pid)
    worker_main_of(cluster, pool)
    assert attempts(fault_redis.url, video_id)[part] == 1
    os.kill(ffmpeg_pid, signal.SIGSTOP)
    measure("seconds until a killed pool process's ffmpeg is gone", kill_and_time_orphan(pool, ffmpeg_pid))
    assert_clean_ready(cluster, fault_storage, video_id, tmp_path)
    assert_ran_again_once(fault_redis.url, video_id, part)


@pytest.mark.parametrize("run", RUNS)
@trial("2. SIGKILL a whole worker, start a new one")
def test_kill_whole_worker(run, cluster, fault_redis, fault_storage, clip, tmp_path):
    kill_whole_worker(cluster, fault_redis, fault_storage, clip, tmp_path)


def kill_whole_worker(cluster, fault_redis, fault_storage, clip, tmp_path) -> None:
    """The body of trial 2, on whichever broker the cluster uses."""
    video_id = upload(cluster.url, clip).json()["id"]
    part, ffmpeg_pid = encoding(cluster, fault_redis.url, video_id)
    name = worker_main_of(cluster, parent_of(ffmpeg_pid))
    proc = cluster.workers.pop(name)
    measure("seconds until a killed worker's ffmpeg is gone", kill_and_time_orphan(-proc.pid, ffmpeg_pid))
    proc.wait()
    killed_at = time.monotonic()
    cluster.start_worker()
    assert_clean_ready(cluster, fault_storage, video_id, tmp_path)
    assert time.monotonic() - killed_at < 90, "taken up only after a long timeout"
    assert_ran_again_once(fault_redis.url, video_id, part)


@pytest.mark.parametrize("run", RUNS)
@trial("3. SIGKILL ffmpeg only")
def test_kill_ffmpeg(run, cluster, fault_redis, fault_storage, clip, tmp_path):
    video_id = upload(cluster.url, clip).json()["id"]
    part, ffmpeg_pid = encoding(cluster, fault_redis.url, video_id)
    os.kill(ffmpeg_pid, signal.SIGKILL)
    killed_at = time.time()
    assert_clean_ready(cluster, fault_storage, video_id, tmp_path)
    assert_ran_again_once(fault_redis.url, video_id, part)
    entry = part_of(stored(fault_redis.url, video_id), part)
    assert entry["last_error"]["code"] == "encoder_killed"
    # Retried after the first pause of the backoff, not at once.
    assert entry["started_at"] - killed_at >= backoff_seconds(1) - 0.2


def restart_redis_mid_encode(
    cluster: Cluster,
    fault_redis: RedisServer,
    storage: Path,
    clip: Path,
    data: Path,
    tmp: Path,
    stop: Callable,
) -> dict[str, int]:
    """Stop Redis with ``stop`` while a part encodes, start it 2 s later; the video must end
    ready and the workers consume again. Returns how often each part was started."""
    video_id = upload(cluster.url, clip).json()["id"]
    encoding(cluster, fault_redis.url, video_id)
    stop()
    # The outage itself is the fault: a restart of a few seconds, which the workers' Redis
    # clients ride out by retrying (for about half a minute) while the encode goes on.
    time.sleep(2)
    fault_redis.start()
    assert_clean_ready(cluster, storage, video_id, tmp)
    counts = attempts(fault_redis.url, video_id)
    # The workers consume again: a video sent after the restart is done too.
    after = upload(cluster.url, data / "bikes.mp4").json()["id"]
    assert finished(cluster, after)["state"] == "ready"
    return counts


@pytest.mark.parametrize("run", RUNS)
@trial("4. Redis stopped cleanly mid-encode and started again: no re-encode")
def test_redis_restart(run, cluster, fault_redis, fault_storage, clip, data_dir, tmp_path):
    counts = restart_redis_mid_encode(
        cluster, fault_redis, fault_storage, clip, data_dir, tmp_path, fault_redis.shut_down
    )
    assert all(n == 1 for n in counts.values()), f"a clean Redis restart cost a re-encode: {counts}"


@pytest.mark.parametrize("run", RUNS)
@trial("5. Redis crashed (SIGKILL) mid-encode and started again")
def test_redis_crash(run, cluster, fault_redis, fault_storage, clip, data_dir, tmp_path):
    counts = restart_redis_mid_encode(
        cluster, fault_redis, fault_storage, clip, data_dir, tmp_path, fault_redis.crash
    )
    # What a crash may cost (see docs/reliability.md): at most one more start of a part.
    assert all(1 <= n <= 2 for n in counts.values()), counts
    measure("parts started again after a Redis crash", sum(n - 1 for n in counts.values()))


@pytest.mark.parametrize("run", RUNS)
@trial("6. ffmpeg stalled (SIGSTOP)")
def test_stalled_ffmpeg(run, cluster, fault_redis, fault_storage, clip, tmp_path):
    video_id = upload(cluster.url, clip).json()["id"]
    part, ffmpeg_pid = encoding(cluster, fault_redis.url, video_id)
    os.kill(ffmpeg_pid, signal.SIGSTOP)
    stopped_at = time.monotonic()
    wait(lambda: not alive(ffmpeg_pid), limit_s() + scaled(12), "the watchdog killing the stalled ffmpeg")
    assert time.monotonic() - stopped_at < limit_s() + scaled(5)
    assert_clean_ready(cluster, fault_storage, video_id, tmp_path)
    assert_ran_again_once(fault_redis.url, video_id, part)
    assert part_of(stored(fault_redis.url, video_id), part)["last_error"]["code"] == "encoder_stalled"


@pytest.mark.parametrize("run", RUNS)
@trial("7. Cancel mid-encode")
def test_cancel(run, cluster, fault_redis, fault_storage, clip):
    video_id = upload(cluster.url, clip).json()["id"]
    encoding(cluster, fault_redis.url, video_id)
    assert encoder_pids(video_id)
    asked = time.monotonic()
    response = requests.post(f"{cluster.url}/api/videos/{video_id}/cancel", timeout=10)
    assert response.status_code == 200 and response.json()["state"] == "canceled"
    wait(lambda: not encoder_pids(video_id), scaled(2), "every ffmpeg of the video stopped")
    assert time.monotonic() - asked < scaled(2.5)
    wait(lambda: not (fault_storage / "videos" / video_id).exists(), 10, "the video's files removed")
    # Queued parts come and go without starting anything.
    settle(
        cluster.env,
        lambda: (
            encoder_pids(video_id),
            (fault_storage / "videos" / video_id).exists(),
            runs(fault_redis.url, video_id),
        ),
        120,
        "the video's queued parts delivered",
        videos=[video_id],
    )
    assert not encoder_pids(video_id) and not (fault_storage / "videos" / video_id).exists()
    assert api(cluster, video_id)["state"] == "canceled"


@pytest.mark.parametrize("run", RUNS)
@trial("8. Disk full (storage on a small tmpfs)")
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
            output = storage / "videos" / video_id / f"{rendition['name']}.mp4"
            if rendition["state"] == "ready":
                assert requests.get(small.url + rendition["url"], timeout=10).ok
            else:
                assert not output.exists(), f"a torn {output.name} was left where a finished one goes"
        assert not [p for p in storage.rglob("*") if p.name.endswith(".part")]
        small.kill_worker(name)
    finally:
        subprocess.run(["umount", "-l", str(storage)], check=False)


@pytest.mark.parametrize("run", RUNS)
@trial("9. The same part delivered twice more while it runs")
def test_duplicate_delivery(run, cluster, fault_redis, fault_storage, clip, tmp_path):
    duplicate_delivery(cluster, fault_redis, fault_storage, clip, tmp_path)


def ready_sender(cluster: Cluster) -> Celery:
    """A Celery app that sends at once: connected, its queue found and its result backend
    loaded. Done the first time a copy is sent, that took 2 s on a busy machine (on SQS),
    longer than what was left of the part; and a copy that comes after the part ended finds
    it done, which is not what trial 9 is about."""
    celery = make_celery(Settings.from_env(cluster.env))
    assert celery.backend is not None
    with celery.producer_or_acquire() as producer:
        producer.maybe_declare(celery.amqp.queues[redis_keys.FINALIZE_QUEUE])
    return celery


def duplicate_delivery(cluster, fault_redis, fault_storage, clip, tmp_path) -> None:
    """The body of trial 9, on whichever broker the cluster uses."""
    idle = cluster.idle_worker()
    client = redis.Redis.from_url(fault_redis.url)
    events = client.pubsub()
    events.psubscribe(redis_keys.events_channel("*"))
    celery = ready_sender(cluster)
    video_id = upload(cluster.url, clip).json()["id"]
    part, ffmpeg_pid = encoding(cluster, fault_redis.url, video_id, below=40)
    # Two more deliveries of the running part, to a worker that is free to start them at once.
    # The part is held to a fifth of its pace meanwhile: a copy that comes after it ended
    # finds it done, which is not this trial, and on SQS a copy handed back between workers
    # can take longer than a part of this short clip has left.
    with slowed(ffmpeg_pid):
        for _ in range(2):
            celery.send_task(PART_TASK, args=(video_id, part), queue=redis_keys.FINALIZE_QUEUE)
        wait(
            lambda: runs(fault_redis.url, video_id).get(f"refused:{part}") == 2,
            scaled(15),
            "both copies refused",
        )
        assert alive(ffmpeg_pid), "the first run was still encoding when both copies were turned away"
    assert_clean_ready(cluster, fault_storage, video_id, tmp_path)
    # Every copy, part and close sent for the video has ended: a second `ready` would be out.
    settle(
        cluster.env,
        lambda: (runs(fault_redis.url, video_id), attempts(fault_redis.url, video_id)),
        120,
        "every task of the video ended",
        videos=[video_id],
    )
    readies = 0
    while (message := events.get_message(timeout=0.5)) is not None:
        if message["type"] == "pmessage" and message["channel"].decode().endswith(video_id):
            readies += json.loads(message["data"])["state"] == "ready"
    events.close()
    assert readies == 1
    counts = runs(fault_redis.url, video_id)
    assert (counts[part], counts[f"refused:{part}"]) == (3, 2), counts
    assert attempts(fault_redis.url, video_id)[part] == 1
    # One copy of the part's output in each of its renditions, nothing half-written beside it.
    for name in part_of(stored(fault_redis.url, video_id), part)["rungs"]:
        folder = fault_storage / "videos" / video_id / "hls" / name
        assert sorted(p.name for p in folder.iterdir() if part in p.name) == [part]
    assert idle in cluster.workers


def _watch_sse(url: str, video_id: str, seen: list[dict]) -> None:
    seen.extend(Client(url).follow(video_id))


def _watch_ws(url: str, video_id: str, seen: list[dict]) -> None:
    ws = websocket.create_connection(url.replace("http://", "ws://") + "/api/ws", timeout=120)
    ws.send(json.dumps({"subscribe": [video_id]}))
    while not seen or seen[-1]["state"] not in ("ready", "failed", "canceled"):
        seen.append(json.loads(ws.recv()))
    ws.close()


@pytest.mark.parametrize("run", RUNS)
@trial("10. The web process's pub/sub connection killed mid-job, 50 clients following")
def test_pubsub_killed(run, cluster, fault_redis, clip):
    video_id = upload(cluster.url, clip).json()["id"]
    watchers = [(_watch_sse if n % 2 else _watch_ws, []) for n in range(50)]
    threads = [
        threading.Thread(target=w, args=(cluster.url, video_id, seen), daemon=True) for w, seen in watchers
    ]
    for thread in threads:
        thread.start()
    wait(lambda: all(any(r["progress"] > 0 for v in seen for r in v["renditions"]) for _, seen in watchers),
         60, "progress reaching every client")  # fmt: skip
    # The web process follows every video on one subscription, whoever watches: kill it
    # (and the workers' own, Celery's remote control, with it).
    client = redis.Redis.from_url(fault_redis.url)
    hub = [c for c in client.client_list(_type="pubsub") if c.get("name", "").startswith("transcoder-hub-")]
    assert len(hub) == 1, hub
    assert client.client_kill_filter(_type="pubsub") >= 1
    # Then the hub's alone, again and again until the video ends: its last changes are
    # published while the hub is not subscribed, and only its resync can pass them on.
    while stored(fault_redis.url, video_id)["state"] not in ("ready", "failed", "canceled"):
        for c in client.client_list(_type="pubsub"):
            if c.get("name", "").startswith("transcoder-hub-"):
                client.client_kill_filter(_id=c["id"])
        time.sleep(0.05)
    deadline = time.monotonic() + 20  # the video has ended: its final state is due at once
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not [t for t in threads if t.is_alive()], "clients never told the video ended"
    final = stored(fault_redis.url, video_id)
    for _, seen in watchers:
        assert seen[-1]["state"] == "ready" and seen[-1]["seq"] == final["seq"]
        for name in [r["name"] for r in seen[-1]["renditions"]]:
            bars = [r["progress"] for v in seen for r in v["renditions"] if r["name"] == name]
            assert bars == sorted(bars)
        assert [v["seq"] for v in seen] == sorted({v["seq"] for v in seen})


@pytest.mark.parametrize("run", RUNS)
@trial("11. Client disconnects mid-upload")
def test_client_disconnect(run, cluster, fault_redis, fault_storage, clip):
    before = (files(fault_storage), recorded(fault_storage))
    log = cluster.processes.logs / f"{cluster.web}.log"
    answered = uploads_answered(log)
    send_half_an_upload(cluster.url, clip)
    wait(lambda: uploads_answered(log) > answered, 30, "the server done with the cut-off upload")
    assert (files(fault_storage), recorded(fault_storage)) == before


@pytest.mark.parametrize("run", RUNS)
@trial("12. ffmpeg killed at every attempt: backoff, then failed after MAX_ATTEMPTS")
def test_ffmpeg_killed_every_time(run, cluster, fault_redis, clip):
    video_id = upload(cluster.url, clip).json()["id"]
    part, _ = encoding(cluster, fault_redis.url, video_id)
    pauses, killed_at, pid = [], None, 0
    for attempt in (1, 2, 3):
        [pid] = wait(lambda p=pid: [n for n in part_encoder(video_id, part) if n != p] or None, 60,
                     f"{part} attempt {attempt} encoding")  # fmt: skip
        if killed_at is not None:
            pauses.append(part_of(stored(fault_redis.url, video_id), part)["started_at"] - killed_at)
        assert part_of(stored(fault_redis.url, video_id), part)["attempts"] == attempt
        os.kill(pid, signal.SIGKILL)
        killed_at = time.time()
    video = finished(cluster, video_id)
    entry = part_of(stored(fault_redis.url, video_id), part)
    assert (video["state"], entry["state"], entry["attempts"]) == ("failed", "failed", 3)
    assert entry["error"]["code"] == "encoder_killed" and "3 times" in entry["error"]["message"]
    # The pauses double: 2 s after the first failure, 4 s after the second (plus pick-up time).
    # The upper bound leaves time for a worker to come free: both may be busy with other parts.
    for pause, expected in zip(pauses, (backoff_seconds(1), backoff_seconds(2)), strict=True):
        assert expected - 0.2 <= pause <= expected + 20, pauses
        measure(f"seconds between attempts (backoff {expected:g} s)", pause)


@pytest.mark.parametrize("run", RUNS)
@trial("13. A part whose worker dies at every attempt fails after MAX_ATTEMPTS")
def test_worker_killed_every_time(run, cluster, fault_redis, clip):
    video_id = upload(cluster.url, clip).json()["id"]
    part, _ = encoding(cluster, fault_redis.url, video_id)
    pid = 0
    for attempt in (1, 2, 3):
        [pid] = wait(lambda p=pid: [n for n in part_encoder(video_id, part) if n != p] or None, 60,
                     f"{part} attempt {attempt} encoding")  # fmt: skip
        assert part_of(stored(fault_redis.url, video_id), part)["attempts"] == attempt
        pool = parent_of(pid)
        worker_main_of(cluster, pool)
        kill_and_time_orphan(pool, pid)
    video = finished(cluster, video_id)
    entry = part_of(stored(fault_redis.url, video_id), part)
    assert (video["state"], entry["state"], entry["attempts"]) == ("failed", "failed", 3)
    assert entry["error"]["code"] == "worker_lost" and "3 times" in entry["error"]["message"]


def test_redis_down_at_upload_is_a_503_and_leaves_nothing(cluster, fault_redis, fault_storage, data_dir):
    before = files(fault_storage)
    fault_redis.shut_down()
    try:
        response = upload(cluster.url, data_dir / "bikes.mp4")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "unavailable"
        assert files(fault_storage) == before
    finally:
        fault_redis.start()
    video_id = upload(cluster.url, data_dir / "bikes.mp4").json()["id"]
    assert finished(cluster, video_id)["state"] == "ready"
