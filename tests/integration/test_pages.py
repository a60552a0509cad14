"""Pages rendered by the real app against a Redis database of their own."""

import redis

from tests.processes import catalog_url
from tests.system import REDIS_URL
from transcoder.settings import Settings
from web import create_app

EMPTY_DB_URL = REDIS_URL.rsplit("/", 1)[0] + "/14"


def test_library_says_so_when_there_are_no_videos(tmp_path):
    client = redis.Redis.from_url(EMPTY_DB_URL)
    client.flushdb()
    app = create_app(
        Settings.from_env(
            {"TRANSCODER_AUTH": "off"},
            redis_url=EMPTY_DB_URL,
            storage_dir=tmp_path,
            database_url=catalog_url(tmp_path),
        )
    )
    page = app.test_client().get("/videos")
    assert page.status_code == 200
    assert "No videos yet." in page.get_data(as_text=True)
    client.flushdb()


def test_watch_page_of_unknown_video_is_404(tmp_path):
    app = create_app(
        Settings.from_env(
            {"TRANSCODER_AUTH": "off"},
            redis_url=EMPTY_DB_URL,
            storage_dir=tmp_path,
            database_url=catalog_url(tmp_path),
        )
    )
    assert app.test_client().get("/videos/" + "e" * 32).status_code == 404
