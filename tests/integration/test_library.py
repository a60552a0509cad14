"""The library, through the real app on SQLite and on PostgreSQL: newest first, cursor paging
to the last video, a filter by state, a search in file names, clear errors for bad
arguments, and an upload the database cannot record refused with nothing kept."""

from __future__ import annotations

import re

import pytest
import redis

from tests.support.clips import SMALL_MEDIA, video_record
from tests.support.databases import database_url  # noqa: F401  (the fixture)
from tests.support.system import REDIS_URL
from transcoder.records import catalog, database, transitions
from transcoder.settings import Settings
from web import create_app

URL = REDIS_URL.rsplit("/", 1)[0] + "/2"
NAMES = ("holiday.mp4", "cat_100%.mov", "Holiday-2.mkv", "talk.webm")


@pytest.fixture
def app(tmp_path, database_url):  # noqa: F811
    client = redis.Redis.from_url(URL)
    client.flushdb()
    settings = Settings.from_env(
        {"TRANSCODER_AUTH": "off"},
        redis_url=URL,
        storage_dir=tmp_path / "storage",
        database_url=database_url,
        max_upload_bytes=1 << 20,
    )
    app = create_app(settings)
    yield app
    app.extensions["transcoder"].catalog.engine.dispose()
    client.flushdb()


def add_videos(app, count: int) -> list[str]:
    """``count`` videos, one a second, named in turn from NAMES; every third canceled."""
    store, ids = app.extensions["transcoder"].videos, []
    for n in range(count):
        video = {**video_record(f"{n:032x}", SMALL_MEDIA), "created_at": 1000.0 + n, "filename": NAMES[n % 4]}
        store.create(video)
        if n % 3 == 0:
            store.update(video["id"], lambda v: transitions.cancel(v, 2000.0))
        ids.append(video["id"])
    return ids[::-1]  # newest first


def every_page(client, **args) -> list[str]:
    seen, cursor = [], None
    while True:
        reply = client.get("/api/videos", query_string={**args, **({"cursor": cursor} if cursor else {})})
        assert reply.status_code == 200, reply.json
        seen += [v["id"] for v in reply.json["videos"]]
        cursor = reply.json["next_cursor"]
        if cursor is None:
            return seen


def test_pages_reach_every_video_newest_first_filtered_and_searched(app):
    newest_first = add_videos(app, 61)
    client = app.test_client()
    first = client.get("/api/videos").json
    assert [v["id"] for v in first["videos"]] == newest_first[:50] and first["next_cursor"]
    assert every_page(client, limit=7) == newest_first
    canceled = [i for i in newest_first if int(i, 16) % 3 == 0]
    assert every_page(client, state="canceled", limit=5) == canceled
    assert every_page(client, state="queued") == [i for i in newest_first if i not in canceled]
    holidays = [i for i in newest_first if int(i, 16) % 4 in (0, 2)]
    assert every_page(client, q="HOLIDAY", limit=4) == holidays  # any case
    percent = [i for i in newest_first if int(i, 16) % 4 == 1]
    assert every_page(client, q="_100%") == percent  # % and _ are letters, not wildcards
    assert every_page(client, q="nothing like it") == []
    assert every_page(client, q="talk", state="canceled") == [i for i in canceled if int(i, 16) % 4 == 3]


def test_a_deleted_video_leaves_every_page(app):
    newest_first = add_videos(app, 5)
    client = app.test_client()
    assert client.delete(f"/api/videos/{newest_first[1]}").status_code == 204
    assert every_page(client, limit=2) == [newest_first[0], *newest_first[2:]]
    assert client.get(f"/api/videos/{newest_first[1]}").status_code == 404


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"state": "done"}, "bad_filter"),
        ({"limit": "ten"}, "bad_filter"),
        ({"cursor": "not-ours"}, "bad_cursor"),
    ],
)
def test_bad_arguments_are_400_with_a_reason(app, args, code):
    reply = app.test_client().get("/api/videos", query_string=args)
    assert reply.status_code == 400
    assert reply.json["error"]["code"] == code and len(reply.json["error"]["message"]) > 20


def test_the_library_page_pages_filters_and_searches(app):
    newest_first = add_videos(app, 55)
    client = app.test_client()
    page = client.get("/videos").get_data(as_text=True)
    assert page.count('class="item"') == 50
    older = re.search(r'rel="next" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    rest = client.get(older).get_data(as_text=True)
    assert re.findall(r'data-id="([0-9a-f]{32})"', rest) == newest_first[50:]
    assert 'rel="next"' not in rest and "Newest" in rest
    found = client.get("/videos", query_string={"q": "talk", "state": "queued"}).get_data(as_text=True)
    ids = re.findall(r'data-id="([0-9a-f]{32})"', found)
    assert ids == [i for i in newest_first if int(i, 16) % 4 == 3 and int(i, 16) % 3 != 0]
    assert '<option value="queued" selected>' in found
    none = client.get("/videos", query_string={"q": "zzz"}).get_data(as_text=True)
    assert "No videos match." in none


def test_an_upload_the_database_cannot_record_is_503_and_nothing_is_kept(app, data_dir, tmp_path):
    svc = app.extensions["transcoder"]
    working = svc.catalog
    down = catalog.Catalog(database.make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none"))
    svc.catalog = svc.videos.catalog = down  # the database stops answering
    try:
        with open(data_dir / "bikes.mp4", "rb") as fh:
            reply = app.test_client().post("/api/videos", data={"file": (fh, "bikes.mp4")})
        assert reply.status_code == 503
        assert reply.json["error"]["code"] == "database_unavailable"
        assert "try again" in reply.json["error"]["message"]
    finally:
        svc.catalog = svc.videos.catalog = working
        down.engine.dispose()
    stored = tmp_path / "storage" / "videos"
    assert not stored.exists() or not any(stored.iterdir())
    assert svc.videos.active() == [] and working.counts() == {}


def test_with_redis_out_of_reach_the_library_and_videos_are_read_from_the_database(app, tmp_path):
    newest_first = add_videos(app, 3)
    url = app.extensions["transcoder"].settings.database_url
    away = create_app(
        Settings.from_env(
            {"TRANSCODER_AUTH": "off"},
            redis_url="redis://127.0.0.1:1/0",
            storage_dir=tmp_path / "storage",
            database_url=url,
        )
    )
    client = away.test_client()
    assert every_page(client, limit=2) == newest_first
    reply = client.get(f"/api/videos/{newest_first[-1]}")  # the first, canceled
    assert reply.status_code == 200 and reply.json["state"] == "canceled"
    away.extensions["transcoder"].catalog.engine.dispose()
