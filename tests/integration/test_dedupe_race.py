"""No race between the delete of the last video using some outputs and a new upload of the
same bytes: whichever wins, no ready video ever points at deleted files. On SQLite and on
PostgreSQL (where only the source row's lock orders the two), many rounds, each one
releasing the two at the same instant, in this process, against real Redis and storage.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest
import redis

from tests.support.clips import make_clip
from tests.support.databases import database_url  # noqa: F401  (the fixture)
from tests.support.system import REDIS_URL, prepared_services
from transcoder.records.catalog import VideoRow
from transcoder.settings import Settings
from transcoder.storage.layout import rendition_key, source_key
from transcoder.work import actions, reuse

URL = REDIS_URL.rsplit("/", 1)[0] + "/3"
ROUNDS = 40


@pytest.fixture
def services(database_url, tmp_path):  # noqa: F811
    client = redis.Redis.from_url(URL)
    client.flushdb()
    settings = Settings.from_env(
        {},
        redis_url=URL,
        storage_dir=tmp_path / "storage",
        scratch_dir=tmp_path / "scratch",
        database_url=database_url,
        dedupe="owner",
    )
    services = prepared_services(settings)
    yield services
    services.catalog.engine.dispose()
    client.flushdb()


def upload(services, path) -> dict:
    with open(path, "rb") as fh:
        return actions.accept_upload(services, fh, "same.mp4", services.users.builtin("local", "admin"))


def made_ready(services, video: dict) -> str:
    """What the encode would have done, without ffmpeg: an output in the video's folder,
    the video ready, its outputs shared (as its close does)."""
    marker = services.settings.scratch_dir / "marker"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_bytes(b"an output")
    services.storage.put_file(rendition_key(video["id"], "144p"), marker)
    services.videos.update(
        video["id"], lambda v: bool(v.update(state="ready", finished_at=time.time())) or True
    )
    assert reuse.settle(services, video["id"]) == []
    return video["id"]


def ready_videos_with_missing_files(services) -> list[str]:
    with services.catalog.begin() as session:
        documents = [row.document for row in session.query(VideoRow).filter(VideoRow.state == "ready")]
    return [
        v["id"]
        for v in documents
        if not services.storage.exists(rendition_key(v.get("files_from") or v["id"], "144p"))
    ]


def test_a_delete_racing_an_upload_of_the_same_bytes_never_leaves_a_ready_video_without_files(
    services, tmp_path, artifacts_dir
):
    clip = make_clip(tmp_path / "same.mp4", size="160x90", seconds=1, audio=False)
    current = made_ready(services, upload(services, clip))
    outcomes: Counter[str] = Counter()
    lags = [i * 0.03 / ROUNDS for i in range(ROUNDS)]
    random.Random(32).shuffle(lags)
    for _ in range(ROUNDS):
        go = threading.Barrier(2)
        came: list[dict] = []

        def delete(video_id: str = current, go: threading.Barrier = go, lag: float = lags.pop()) -> None:
            go.wait()
            time.sleep(lag)  # the upload has more to do first: each round meets it at another point
            actions.delete_video(services, video_id)

        def again(go: threading.Barrier = go, came: list[dict] = came) -> None:
            go.wait()
            came.append(upload(services, clip))

        threads = [threading.Thread(target=delete), threading.Thread(target=again)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        (new,) = came
        assert ready_videos_with_missing_files(services) == []
        if new["state"] == "ready":
            outcomes["reused"] += 1
            assert new["files_from"]
        else:
            # The delete won: the upload found no outputs and is a video of its own.
            outcomes["afresh"] += 1
            assert "files_from" not in new and services.storage.exists(source_key(new["id"]))
            made_ready(services, new)
        current = new["id"]
    with open(artifacts_dir / "dedupe.txt", "a") as figures:
        url = services.settings.database_url.split(":")[0]
        print(f"race on {url}: {dict(outcomes)} in {ROUNDS} rounds", file=figures)
    # Both orders happened, or the race was not run.
    assert outcomes["reused"] and outcomes["afresh"], outcomes
    # The last one deleted, nothing is left.
    actions.delete_video(services, current)
    assert not list((services.settings.storage_dir / "videos").rglob("*.mp4"))


def test_identical_uploads_at_the_same_instant_make_one_home_and_followers(services, tmp_path):
    """Both find no row; one makes it (on PostgreSQL the other's insert waits for it, then
    fails on the key, and it tries again): exactly one will encode, the others follow it."""
    for n in range(5):
        clip = make_clip(tmp_path / f"once{n}.mp4", size="160x90", seconds=1 + n * 0.2, audio=False)
        go, came = threading.Barrier(3), []

        def one(go: threading.Barrier = go, came: list[dict] = came, clip=clip) -> None:
            go.wait()
            came.append(upload(services, clip))

        threads = [threading.Thread(target=one) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(came) == 3
        homes = [v for v in came if not v.get("follows")]
        assert len(homes) == 1 and all(v["follows"] == homes[0]["id"] for v in came if v is not homes[0])
        assert all(v["state"] == "queued" for v in came)
