"""Two worker hosts that share nothing with the web app but Redis and an S3 bucket.

Each worker runs in its own network namespace (where it can be made) and reaches Redis and
S3 over its own virtual link; each has its own scratch folder. Every output is read back
from the bucket and checked with ffprobe, and served to HTTP clients with byte ranges.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
import redis
import requests

from tests.support.clips import make_clip
from tests.support.hosts import Hosts
from tests.support.processes import BIN, Processes, RedisServer, environment, start_web, wait_for
from tests.support.proxy import Relay
from tests.support.requests_to_api import upload, wait_terminal
from tests.support.s3 import download, ffprobe_json, keys_in, new_bucket, s3_settings
from transcoder.records import redis_keys

HOSTS = (1, 2)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, s3_port, s3_endpoint):
    root = tmp_path_factory.mktemp("multihost")
    hosts = Hosts()
    prefixes = {i: hosts.add(i) for i in HOSTS}
    server = RedisServer(root, bind=" ".join(["127.0.0.1", *{hosts.gateway(i) for i in HOSTS}]))
    server.start()
    bucket = new_bucket(s3_endpoint)
    relay = Relay(("127.0.0.1", s3_port))  # the workers' way to S3, which a test can cut
    processes = Processes(root)
    web_env = environment(
        server.url,
        root / "web-storage",
        scratch_dir=str(root / "web-scratch"),
        **s3_settings(s3_endpoint, bucket),
    )
    url = start_web(processes, web_env, "multihost-web")
    for i in HOSTS:
        gateway = hosts.gateway(i)
        env = environment(
            server.url_at(gateway),
            root / f"host{i}-storage",
            scratch_dir=str(root / f"host{i}-scratch"),
            **s3_settings(f"http://{gateway}:{relay.port}", bucket),
        )
        argv = [*prefixes[i], str(BIN / "celery"), "-A", "tasks", "worker", "--loglevel", "INFO",
                "--concurrency", "1", "--hostname", f"host{i}@%h", "--without-gossip"]  # fmt: skip
        proc, log = processes.start(f"host{i}", argv, env)
        wait_for(lambda log=log: b" ready." in log.read_bytes(), 60, f"worker host{i} start", proc, log)
    yield {
        "url": url,
        "bucket": bucket,
        "root": root,
        "isolated": hosts.isolated,
        "redis": server.url,
        "relay": relay,
    }
    processes.stop_all()
    relay.down()
    server.stop()
    hosts.remove_all()


def test_workers_on_two_hosts_finish_videos_from_s3(cluster, s3_endpoint, data_dir, tmp_path):
    url, bucket, root = cluster["url"], cluster["bucket"], cluster["root"]
    clips = [
        data_dir / "bigbuckbunny.mp4",
        data_dir / "bikes.mp4",
        make_clip(tmp_path / "tone.mp4", size="640x360", seconds=3, audio=True),
        make_clip(tmp_path / "silent.mp4", size="480x270", seconds=2, audio=False),
        # Long enough to be cut into several parts: one video's parts spread over both hosts.
        make_clip(tmp_path / "long.mp4", size="640x360", seconds=20, audio=True),
    ]
    ids = []
    for clip in clips:
        reply = upload(url, clip)
        assert reply.status_code == 201, reply.text
        ids.append(reply.json()["id"])
    videos = [wait_terminal(url, video_id, timeout=300) for video_id in ids]
    assert [v["state"] for v in videos] == ["ready"] * len(ids), [v.get("error") for v in videos]

    stored = keys_in(s3_endpoint, bucket)
    client = redis.Redis.from_url(cluster["redis"])
    workers_seen = set()
    for video in videos:
        record = json.loads(client.get(redis_keys.video_key(video["id"])))
        hosts = {entry["worker"].split("@")[0] for entry in record["parts"] if entry["kind"] == "video"}
        workers_seen |= hosts
        assert f"videos/{video['id']}/source" in stored
        for rendition in record["renditions"]:
            mp4 = download(s3_endpoint, bucket, f"videos/{video['id']}/{rendition['name']}.mp4", tmp_path)
            playlist = f"{url}/api/videos/{video['id']}/hls/{rendition['name']}/index.m3u8"
            for output in (mp4, playlist):
                probed = json.loads(ffprobe_json(output))
                picture = next(s for s in probed["streams"] if s["codec_type"] == "video")
                assert (picture["codec_name"], picture["width"], picture["height"]) == (
                    "h264",
                    rendition["width"],
                    rendition["height"],
                ), output
                assert abs(float(probed["format"]["duration"]) - video["source"]["duration"]) < 0.6, output
        for name in ("poster.jpg", "storyboard.jpg"):
            image = download(s3_endpoint, bucket, f"videos/{video['id']}/{name}", tmp_path)
            assert json.loads(ffprobe_json(image))["streams"][0]["codec_name"] == "mjpeg"
        assert f"videos/{video['id']}/storyboard.vtt" in stored
    assert workers_seen == {"host1", "host2"}  # both hosts took part
    assert hosts == {"host1", "host2"}, "the long video's parts were encoded on both hosts"

    # Served through the web app, which has no copy: ranges for players, the whole file for downloads.
    first = videos[0]
    mp4 = f"{url}/api/videos/{first['id']}/renditions/144p.mp4"
    whole = requests.get(mp4, timeout=30)
    part = requests.get(mp4, headers={"Range": "bytes=100-1099"}, timeout=30)
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "video/mp4"
    assert part.status_code == 206 and part.content == whole.content[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(whole.content)}"
    assert (
        requests.get(mp4, headers={"Range": f"bytes={len(whole.content) + 10}-"}, timeout=30).status_code
        == 416
    )
    master = requests.get(f"{url}/api/videos/{first['id']}/hls/master.m3u8", timeout=30)
    assert master.status_code == 200 and "144p/index.m3u8" in master.text
    assert requests.get(f"{url}/api/videos/{first['id']}/poster.jpg", timeout=30).content[:2] == b"\xff\xd8"

    # Nothing stayed in any scratch folder, and no process made a storage folder of its own.
    # Each host downloaded each source at most once (its cache), whatever parts it ran.
    for name in ("web", "host1", "host2"):
        scratch = root / f"{name}-scratch"
        assert not scratch.exists() or [p.name for p in scratch.iterdir()] in ([], ["cache"]), name
        assert not (root / f"{name}-storage").exists(), name
        cached = list((scratch / "cache").glob("*[0-9a-f]")) if name != "web" else []
        assert len(cached) <= len(videos), name

    # Canceling removes the files from the bucket too; deleting a finished video, every object
    # under its prefix (source, renditions, HLS parts, previews).
    reply = upload(url, clips[3])
    video_id = reply.json()["id"]
    assert requests.post(f"{url}/api/videos/{video_id}/cancel", timeout=10).ok
    wait_for(
        lambda: not [k for k in keys_in(s3_endpoint, bucket) if video_id in k], 60, "canceled files gone"
    )
    finished = ids[-1]
    assert len([k for k in keys_in(s3_endpoint, bucket) if finished in k]) > 20
    assert requests.delete(f"{url}/api/videos/{finished}", timeout=10).status_code == 204
    assert not [k for k in keys_in(s3_endpoint, bucket) if finished in k]
    assert requests.get(f"{url}/api/videos/{finished}", timeout=10).status_code == 404


def test_object_storage_out_of_reach_for_a_while_loses_no_video(cluster, s3_endpoint, tmp_path):
    """The workers lose S3 while a video waits, until boto3's own retries have run out and
    ours have taken over; then S3 is back, and the video ends ready."""
    url, bucket, relay = cluster["url"], cluster["bucket"], cluster["relay"]
    logs = [cluster["root"] / f"host{i}.log" for i in HOSTS]

    def out_of_reach() -> int:
        return sum(log.read_text(errors="replace").count("Object storage cannot be reached") for log in logs)

    seen = out_of_reach()
    relay.down()
    try:
        clip = make_clip(tmp_path / "outage.mp4", size="640x360", seconds=2, audio=True)
        video_id = upload(url, clip).json()["id"]  # the web app still reaches S3
        wait_for(lambda: out_of_reach() > seen, 60, "a worker finding object storage out of reach")
    finally:
        relay.up()
    video = wait_terminal(url, video_id, timeout=300)
    assert video["state"] == "ready", video["error"]
    stored = keys_in(s3_endpoint, bucket)
    assert all(f"videos/{video_id}/{r['name']}.mp4" in stored for r in video["renditions"])


def test_workers_were_on_hosts_of_their_own(cluster):
    """As root with iproute2 (make test's machines), the workers must have had their own network."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("network namespaces need root and iproute2")
    assert cluster["isolated"]
