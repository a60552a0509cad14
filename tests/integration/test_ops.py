"""What operators poll: /metrics moves with the work the system does; /healthz and /readyz."""

from __future__ import annotations

import time

import redis
import requests
from prometheus_client.parser import text_string_to_metric_families

from tasks import workflow
from tasks.celery import make_celery
from tests.support.processes import catalog_url, wait_for
from tests.support.requests_to_api import upload, wait_terminal
from tests.support.system import REDIS_URL, prepared_services
from transcoder.ops import durability
from transcoder.records import redis_keys
from transcoder.records.leases import Lease
from transcoder.settings import Settings
from transcoder.storage.layout import source_key
from transcoder.work import actions
from transcoder.work.runner import Outcome
from web import create_app


def scrape(base_url: str) -> dict[tuple[str, tuple], float]:
    reply = requests.get(f"{base_url}/metrics", timeout=10)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def test_metrics_follow_uploads_encodes_streams_and_failures(system, settings, long_clip, data_dir, tmp_path):
    before = scrape(system)
    refused = tmp_path / "notes.mp4"
    refused.write_text("not a video at all\n" * 10)
    assert upload(system, refused).status_code == 422

    video_id = upload(system, long_clip).json()["id"]
    with requests.get(f"{system}/api/videos/{video_id}/events", stream=True, timeout=30) as events:
        lines = events.iter_lines()
        while not (next(lines) or b"").startswith(b"data:"):
            pass
        during = wait_for(
            # A kind with nothing running has no sample at all until a part of it starts.
            lambda: (
                (m := scrape(system)).get(("transcoder_parts_running", (("kind", "video"),)), 0) >= 1 and m
            ),
            30,
            "a part of the pictures encoding",
        )
        assert during[("transcoder_streams_open", (("kind", "sse"),))] >= 1
        assert during[("transcoder_videos", (("state", "processing"),))] >= 1
    assert wait_terminal(system, video_id)["state"] == "ready"

    # A part that fails for good: its source disappears before a worker reaches it.
    services = prepared_services(settings)
    with open(data_dir / "bikes.mp4", "rb") as fh:
        broken = actions.accept_upload(services, fh, "bikes.mp4", services.users.builtin("local", "admin"))
    services.storage.path(source_key(broken["id"])).unlink()
    workflow.submit(make_celery(settings), broken)
    assert wait_terminal(system, broken["id"])["state"] == "failed"
    # Every part that reads the source fails; the join, which would come after them, never runs.
    readers = [p for p in services.videos.get(broken["id"])["parts"] if p["kind"] != "join"]
    assert all(p["state"] == "failed" for p in readers)

    after = wait_for(
        lambda: (m := scrape(system))[("transcoder_streams_open", (("kind", "sse"),))] == 0 and m,
        15,
        "stream closed",
    )

    def grew(name: str, labels: tuple = ()) -> float:
        return after.get((name, labels), 0) - before.get((name, labels), 0)

    parts = services.videos.get(video_id)["parts"]
    for kind in ("video", "audio", "join"):
        count = sum(p["kind"] == kind for p in parts)
        assert count >= 1
        assert grew("transcoder_encode_seconds_count", (("kind", kind),)) == count
        assert grew("transcoder_encode_seconds_bucket", (("kind", kind), ("le", "+Inf"))) == count
        assert grew("transcoder_encode_seconds_sum", (("kind", kind),)) > 0
    assert grew("transcoder_uploads_total") == 2
    assert (
        grew("transcoder_upload_bytes_total")
        == long_clip.stat().st_size + (data_dir / "bikes.mp4").stat().st_size
    )
    assert grew("transcoder_uploads_refused_total", (("code", "not_a_video"),)) == 1
    assert grew("transcoder_failures_total", (("code", "storage_error"),)) == len(readers)
    assert grew("transcoder_videos", (("state", "ready"),)) == 1
    assert grew("transcoder_videos", (("state", "failed"),)) == 1
    assert after[("transcoder_queue_depth", (("queue", "parts"),))] >= 0
    assert ("transcoder_queue_depth", (("queue", "finalize"),)) in after


def test_health_and_readiness(system):
    assert requests.get(f"{system}/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(f"{system}/readyz", timeout=5)
    assert ready.status_code == 200
    body = ready.json()
    assert {k: body[k] for k in ("status", "checks")} == {
        "status": "ready",
        "checks": {"redis": "ok", "database": "ok", "storage": "ok"},
    }
    # The suite's Redis is the machine's; whether it persists decides the warning (test_durability).
    persists = not durability.keeps_nothing(redis.Redis.from_url(REDIS_URL))
    assert body.get("warnings", []) == ([] if persists else [durability.WARNING])


def test_not_ready_without_the_database(tmp_path):
    from transcoder.records.catalog import Catalog
    from transcoder.records.database import make_engine

    app = create_app(
        Settings.from_env(
            {"TRANSCODER_AUTH": "off"},
            redis_url=REDIS_URL,
            storage_dir=tmp_path / "s",
            database_url=catalog_url(tmp_path),
        )
    )
    svc = app.extensions["transcoder"]
    svc.catalog = Catalog(make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none"))  # down
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["database"].startswith("unreachable: The database cannot be reached")
    svc.catalog.engine.dispose()


def test_not_ready_without_redis(tmp_path):
    app = create_app(
        Settings.from_env(
            {"TRANSCODER_AUTH": "off"},
            redis_url="redis://127.0.0.1:1/0",
            storage_dir=tmp_path / "s",
            database_url=catalog_url(tmp_path),
        )
    )
    client = app.test_client()
    started = time.monotonic()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["storage"] == "ok" and ready.json["checks"]["redis"].startswith("unreachable")
    scraped = client.get("/metrics")
    assert scraped.status_code == 503 and scraped.json["error"]["code"] == "unavailable"
    assert client.get("/healthz").status_code == 200
    assert time.monotonic() - started < 30


def test_upload_while_object_storage_is_down_is_503_and_leaves_nothing(tmp_path, data_dir):
    from tests.support.processes import free_port
    from tests.support.s3 import s3_settings

    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = Settings.from_env(
        {"TRANSCODER_AUTH": "off"},
        redis_url=REDIS_URL,
        scratch_dir=tmp_path / "scratch",
        database_url=catalog_url(tmp_path),
        **s3_settings(down, "videos"),
    )
    client = create_app(settings).test_client()
    with open(data_dir / "bikes.mp4", "rb") as fh:
        reply = client.post("/api/videos", data={"file": (fh, "bikes.mp4")})
    assert reply.status_code == 503
    assert reply.json["error"]["code"] == "storage_unreachable"
    assert list((tmp_path / "scratch").iterdir()) == []
    assert client.get("/readyz").json["checks"]["storage"].startswith("unavailable")


def test_a_delivery_turned_away_by_the_lease_is_counted(system, settings, data_dir):
    video_id = wait_terminal(system, upload(system, data_dir / "bikes.mp4").json()["id"])["id"]
    services = prepared_services(settings)
    before = scrape(system).get(("transcoder_lease_refusals_total", ()), 0)
    held = Lease(services.redis, redis_keys.lease_key(video_id, "v00"), 30)
    assert held.acquire()  # as if another worker were running it right now
    try:
        assert actions.run_part(services, video_id, "v00", "test@host") == Outcome()
    finally:
        held.release()
    assert scrape(system)[("transcoder_lease_refusals_total", ())] == before + 1
    assert int(services.redis.hget(redis_keys.runs_key(video_id), "refused:v00")) == 1
