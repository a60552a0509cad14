"""Content-addressed sources through the real app: the same bytes uploaded again reuse the
outputs (ready at once, no ffmpeg), shared with references counted, local and S3;
repeats of a video still encoding follow it; other owners and other settings encode
afresh.

Systems of their own (accounts and TRANSCODER_DEDUPE=owner on; the suite's shared system
has reuse off): gunicorn, two `celery worker` processes, Redis databases 7 and 2 of the
lane's server, an SQLite catalog; the S3 one on moto's server. Each test makes clips of
its own, so no test reuses another's outputs.
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.integration.test_ops import scrape
from tests.support.accounts import keyed
from tests.support.clips import make_clip
from tests.support.processes import start_web, start_worker, wait_for
from tests.support.s3 import keys_in, new_bucket, s3_settings
from tests.support.system import prepared_services, side_system
from transcoder.records import redis_keys
from transcoder.records.sources import SourceRow
from transcoder.settings import Settings

WORKER_OPTIONS = ("--without-gossip", "--without-mingle")


def start(root: Path, database: int, **settings: str):
    """A side system with reuse on, two workers, and two uploaders with a key each."""
    with side_system(root, database=database, auth="on", dedupe="owner", **settings) as side:
        for name in ("a", "b"):
            start_worker(side.processes, side.env, f"{root.name}-{name}", *WORKER_OPTIONS)
        side.services = prepared_services(Settings.from_env(side.env))
        side.root = root
        for name in ("alice", "bob"):
            user = side.services.users.add(name, f"{name}'s long password")
            setattr(side, name, keyed(side.services.keys.create(user, "tests")[1]))
        yield side


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    yield from start(tmp_path_factory.mktemp("dedupe"), 7)


@pytest.fixture(scope="module")
def on_s3(tmp_path_factory, s3_endpoint):
    bucket = new_bucket(s3_endpoint)
    for side in start(tmp_path_factory.mktemp("dedupe-s3"), 2, **s3_settings(s3_endpoint, bucket)):
        side.stored = lambda: keys_in(s3_endpoint, bucket)
        yield side


#: Each clip a test makes is as long as no other: bytes no other test uploads.
CLIPS = itertools.count()


@pytest.fixture
def clip(tmp_path) -> Callable[..., Path]:
    def make(seconds: float = 4, size: str = "320x180") -> Path:
        n = next(CLIPS)
        return make_clip(tmp_path / f"c{n}.mp4", size=size, seconds=seconds + n * 0.2, audio=True)

    return make


def post(client: requests.Session, url: str, path: Path) -> requests.Response:
    with open(path, "rb") as fh:
        answer = client.post(f"{url}/api/videos", files={"file": (path.name, fh)}, timeout=60)
    assert answer.status_code == 201, answer.text
    return answer


def get(side, client: requests.Session, video_id: str) -> dict:
    return client.get(f"{side.url}/api/videos/{video_id}", timeout=10).json()


def ended(side, client: requests.Session, video_id: str, timeout: float = 180) -> dict:
    def done():
        video = get(side, client, video_id)
        return video if video["state"] in ("ready", "failed", "canceled") else None

    return wait_for(done, timeout, f"video {video_id} ending")


def runs(side, video_id: str) -> dict[str, int]:
    """Each part's deliveries and the closes of one video (``runner.count_run``)."""
    return {k.decode(): int(v) for k, v in side.redis.hgetall(redis_keys.runs_key(video_id)).items()}


def encoded(side, video_id: str) -> bool:
    """It ran its own parts and was closed (the close comes just after ``ready``)."""
    wait_for(lambda: runs(side, video_id).get("close"), 30, f"video {video_id} closed")
    return runs(side, video_id).get("join") == 1


def plays(side, client: requests.Session, video: dict) -> None:
    """Its MP4s whole, its HLS (master, a media playlist, each segment) and its poster."""
    base = f"{side.url}/api/videos/{video['id']}"
    for rendition in video["renditions"]:
        mp4 = client.get(f"{base}/renditions/{rendition['name']}.mp4", timeout=30)
        assert mp4.status_code == 200 and mp4.content[4:8] == b"ftyp", (rendition["name"], mp4.status_code)
    master = client.get(f"{base}/hls/master.m3u8", timeout=10)
    assert master.status_code == 200, master.text
    playlist = next(line for line in master.text.splitlines() if line.endswith(".m3u8"))
    media = client.get(f"{base}/hls/{playlist}", timeout=10)
    assert media.status_code == 200
    folder = playlist.rsplit("/", 1)[0]
    for line in media.text.splitlines():
        if line and not line.startswith("#"):
            assert client.get(f"{base}/hls/{folder}/{line}", timeout=10).status_code == 200, line
    assert client.get(f"{base}/poster.jpg", timeout=10).status_code == 200


def stored(side, *video_ids: str) -> list[str]:
    """What storage holds under these videos' folders (local or in the bucket)."""
    if hasattr(side, "stored"):
        keys = side.stored()
    else:
        folder = side.root / "storage"
        keys = [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()]
    return [k for k in keys if any(k.startswith(f"videos/{v}/") for v in video_ids)]


def sources(side) -> list[SourceRow]:
    with side.services.catalog.begin() as session:
        return list(session.query(SourceRow))


@pytest.mark.parametrize("where", ["local", "on_s3"])
def test_the_same_file_twice_is_ready_at_once_and_its_files_go_with_the_last_reference(
    request, where, clip, artifacts_dir
):
    side = request.getfixturevalue(where)
    path = clip()
    first = ended(side, side.alice, post(side.alice, side.url, path).json()["id"])
    assert first["state"] == "ready"
    wait_for(lambda: runs(side, first["id"]).get("close"), 30, "the first video closed")
    runs_of_first = runs(side, first["id"])

    reused = ("transcoder_uploads_reused_total", (("how", "ready"),))
    before = scrape(side.url).get(reused, 0)
    asked = time.monotonic()
    answer = post(side.alice, side.url, path).json()
    took = time.monotonic() - asked
    assert scrape(side.url)[reused] == before + 1
    second = get(side, side.alice, answer["id"])
    with open(artifacts_dir / "dedupe.txt", "a") as figures:
        print(f"{where}: a repeat was answered {answer['state']} in {took * 1000:.0f} ms", file=figures)
    assert answer["state"] == "ready" and second["state"] == "ready" and took < 1.0
    assert second["id"] != first["id"] and second["source"]["sha256"] == first["source"]["sha256"]
    assert [r["name"] for r in second["renditions"]] == [r["name"] for r in first["renditions"]]
    # No ffmpeg ran for it: no part of it was ever delivered, nor was the first's run again.
    assert runs(side, second["id"]) == {} and runs(side, first["id"]) == runs_of_first
    assert stored(side, second["id"]) == []  # its bytes were not kept twice
    plays(side, side.alice, second)

    # Deleting the first keeps what the second reads.
    assert side.alice.delete(f"{side.url}/api/videos/{first['id']}", timeout=10).status_code == 204
    assert side.alice.get(f"{side.url}/api/videos/{first['id']}", timeout=10).status_code == 404
    plays(side, side.alice, get(side, side.alice, second["id"]))
    assert stored(side, first["id"])

    # Deleting the second, the last reference, removes them all.
    assert side.alice.delete(f"{side.url}/api/videos/{second['id']}", timeout=10).status_code == 204
    assert stored(side, first["id"], second["id"]) == []
    assert not [s for s in sources(side) if s.sha256 == first["source"]["sha256"]]


def test_a_resumable_upload_of_bytes_already_encoded_is_ready_at_its_last_patch(local, clip):
    """The tus path reaches the same reuse: its last PATCH names a video ready at once."""
    path = clip()
    first = ended(local, local.alice, post(local.alice, local.url, path).json()["id"])
    data = path.read_bytes()
    tus = {"Tus-Resumable": "1.0.0"}
    name = base64.b64encode(b"again.mp4").decode()
    created = local.alice.post(
        f"{local.url}/api/uploads/",
        headers={**tus, "Upload-Length": str(len(data)), "Upload-Metadata": f"filename {name}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    location, half = created.headers["Location"], len(data) // 2
    octets = {**tus, "Content-Type": "application/offset+octet-stream"}
    for offset, chunk in ((0, data[:half]), (half, data[half:])):
        sent = local.alice.patch(
            location, data=chunk, headers={**octets, "Upload-Offset": str(offset)}, timeout=60
        )
        assert sent.status_code == 204, sent.text
    video = get(local, local.alice, sent.headers["X-Video-Id"])
    assert video["state"] == "ready" and video["source"]["sha256"] == first["source"]["sha256"]
    assert runs(local, video["id"]) == {} and stored(local, video["id"]) == []
    plays(local, local.alice, video)


def test_a_reused_video_counts_its_full_size_against_its_owner(local, clip):
    path = clip()
    first = ended(local, local.alice, post(local.alice, local.url, path).json()["id"])
    # Its close shares its outputs (a repeat before that follows it, and attaches at the close).
    wait_for(lambda: runs(local, first["id"]).get("close"), 30, "the first video closed")
    second = post(local.alice, local.url, path).json()
    assert second["state"] == "ready"
    with local.services.catalog.begin() as session:
        from transcoder.records.catalog import VideoRow

        sizes = {row.id: row.stored_bytes for row in session.query(VideoRow).filter(
            VideoRow.id.in_([first["id"], second["id"]]))}  # fmt: skip
    assert sizes[second["id"]] == sizes[first["id"]] > path.stat().st_size


def test_another_owners_identical_upload_encodes_afresh(local, clip):
    path = clip()
    first = ended(local, local.alice, post(local.alice, local.url, path).json()["id"])
    answer = post(local.bob, local.url, path).json()
    assert answer["state"] == "queued"
    theirs = ended(local, local.bob, answer["id"])
    assert theirs["state"] == "ready" and encoded(local, theirs["id"])
    assert stored(local, theirs["id"]) and stored(local, first["id"])
    plays(local, local.bob, theirs)


def test_a_repeat_of_a_video_still_encoding_follows_it(local, clip):
    path = clip(seconds=10, size="1280x720")
    origin = post(local.alice, local.url, path).json()["id"]
    following = ("transcoder_uploads_reused_total", (("how", "following"),))
    before = scrape(local.url).get(following, 0)
    repeat = post(local.alice, local.url, path).json()
    assert repeat["state"] == "queued" and scrape(local.url)[following] == before + 1
    assert get(local, local.alice, origin)["state"] in ("queued", "processing")
    done = ended(local, local.alice, repeat["id"])
    assert done["state"] == "ready" and ended(local, local.alice, origin)["state"] == "ready"
    assert runs(local, repeat["id"]) == {}  # it encoded nothing
    wait_for(lambda: not stored(local, repeat["id"]), 10, "the follower's own copy of the bytes dropped")
    plays(local, local.alice, done)


def test_two_identical_uploads_at_the_same_moment_encode_once(local, clip):
    path = clip()
    answers: list[dict] = []
    go = threading.Barrier(2)

    def one() -> None:
        go.wait()
        answers.append(post(local.alice, local.url, path).json())

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = [ended(local, local.alice, a["id"]) for a in answers]
    assert [v["state"] for v in final] == ["ready", "ready"]
    encoded = [v["id"] for v in final if runs(local, v["id"])]
    assert len(encoded) == 1, [runs(local, v["id"]) for v in final]


def test_a_follower_whose_origin_is_canceled_encodes_on_its_own(local, clip):
    path = clip(seconds=10, size="1280x720")
    origin = post(local.alice, local.url, path).json()["id"]
    repeat = post(local.alice, local.url, path).json()["id"]
    canceled = local.alice.post(f"{local.url}/api/videos/{origin}/cancel", timeout=10)
    assert canceled.status_code == 200 and canceled.json()["state"] == "canceled"
    done = ended(local, local.alice, repeat)
    assert done["state"] == "ready" and encoded(local, repeat)
    assert stored(local, origin) == []
    plays(local, local.alice, done)


def test_a_follower_whose_origin_is_deleted_encodes_on_its_own(local, clip):
    path = clip(seconds=10, size="1280x720")
    origin = post(local.alice, local.url, path).json()["id"]
    repeat = post(local.alice, local.url, path).json()["id"]
    assert local.alice.delete(f"{local.url}/api/videos/{origin}", timeout=10).status_code == 204
    done = ended(local, local.alice, repeat)
    assert done["state"] == "ready"
    plays(local, local.alice, done)


def test_a_follower_is_settled_by_the_sweep_when_its_origins_close_is_lost(local, clip):
    """The origin is canceled behind the web app's back (no follower sent): the workers'
    sweep finds the follower's origin ended and sends it to encode."""
    from transcoder.records import transitions

    path = clip()
    origin = post(local.alice, local.url, path).json()["id"]
    repeat = post(local.alice, local.url, path).json()["id"]
    local.services.videos.update(origin, lambda v: transitions.cancel(v, time.time()))
    local.redis.set(redis_keys.cancel_key(origin), 1, ex=redis_keys.FLAG_TTL)
    done = ended(local, local.alice, repeat, timeout=240)
    assert done["state"] == "ready"


def test_a_change_of_the_encoding_settings_encodes_afresh(local, clip):
    path = clip()
    first = ended(local, local.alice, post(local.alice, local.url, path).json()["id"])
    assert first["state"] == "ready"
    # The same installation, restarted with another x264 preset: nothing made before is reused.
    local.processes.stop_all()
    local.env = {**local.env, "TRANSCODER_X264_PRESET": "ultrafast"}
    local.url = start_web(local.processes, local.env, "dedupe-web-ultrafast")
    for name in ("c", "d"):
        start_worker(local.processes, local.env, f"dedupe-ultrafast-{name}", *WORKER_OPTIONS)
    again = post(local.alice, local.url, path).json()
    assert again["state"] == "queued"
    done = ended(local, local.alice, again["id"])
    assert done["state"] == "ready" and runs(local, again["id"]).get("join") == 1
    # ...and a third upload under the new settings reuses the second's outputs.
    third = post(local.alice, local.url, path).json()
    assert third["state"] == "ready" and runs(local, third["id"]) == {}


def test_a_reused_video_past_the_storage_quota_is_refused_and_leaves_nothing(local, clip):
    """F4: the source alone fits, but a reused video is charged its outputs too: refused,
    by a multipart upload and a resumable one alike, with nothing left behind."""
    made = local.services.users.add("carol", "carol's long password")
    carol = keyed(local.services.keys.create(made, "tests")[1])
    path = clip()
    first = ended(local, carol, post(carol, local.url, path).json()["id"])
    wait_for(lambda: runs(local, first["id"]).get("close"), 30, "the first video closed")
    full = carol.get(f"{local.url}/api/me", timeout=10).json()["usage"]["stored_bytes"]
    size = path.stat().st_size
    assert full > size
    local.services.users.change("carol", storage_quota=full + size + 4096)  # the source fits, the outputs not
    with open(path, "rb") as fh:
        answer = carol.post(f"{local.url}/api/videos", files={"file": (path.name, fh)}, timeout=60)
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "quota_exceeded", answer.text
    tus = {"Tus-Resumable": "1.0.0"}
    created = carol.post(f"{local.url}/api/uploads/", headers={**tus, "Upload-Length": str(size)}, timeout=30)
    assert created.status_code == 201, created.text
    octets = {**tus, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    last = carol.patch(created.headers["Location"], data=path.read_bytes(), headers=octets, timeout=60)
    assert last.status_code == 413 and last.json()["error"]["code"] == "quota_exceeded", last.text
    assert carol.head(created.headers["Location"], headers=tus, timeout=10).status_code == 404
    videos = carol.get(f"{local.url}/api/videos", timeout=10).json()
    assert [v["id"] for v in videos["videos"]] == [first["id"]]
    assert carol.get(f"{local.url}/api/me", timeout=10).json()["usage"]["stored_bytes"] == full
    assert not local.redis.hgetall(redis_keys.reservations_key(made.id))


def test_the_oldest_follower_takes_over_a_canceled_origin(local, clip):
    """F5c: of two followers, the one uploaded first encodes; the other follows it."""
    path = clip(seconds=10, size="1280x720")
    origin = post(local.alice, local.url, path).json()["id"]
    first = post(local.alice, local.url, path).json()["id"]
    second = post(local.alice, local.url, path).json()["id"]
    canceled = local.alice.post(f"{local.url}/api/videos/{origin}/cancel", timeout=10)
    assert canceled.status_code == 200
    assert ended(local, local.alice, first)["state"] == "ready" and encoded(local, first)
    assert ended(local, local.alice, second)["state"] == "ready"
    assert runs(local, second) == {}  # it followed the first, encoding nothing


def test_a_repeat_after_its_origin_is_ready_but_before_its_close_is_ready_at_once(local, clip):
    """The close that settles a ready video's outputs as shared runs just after it, on the
    finalize queue; here no worker takes closes, so it never runs: a repeat still finds
    its origin ready and reuses it at once, rather than following a video that ended."""
    local.processes.stop_all()
    local.url = start_web(local.processes, local.env, "dedupe-web-no-close")
    for name in ("e", "f"):
        start_worker(
            local.processes, local.env, f"dedupe-no-close-{name}", *WORKER_OPTIONS, "--queues", "parts"
        )
    path = clip()
    first = ended(local, local.alice, post(local.alice, local.url, path).json()["id"])
    assert first["state"] == "ready" and "close" not in runs(local, first["id"])
    repeat = post(local.alice, local.url, path).json()
    assert repeat["state"] == "ready" and runs(local, repeat["id"]) == {}
    plays(local, local.alice, get(local, local.alice, repeat["id"]))
