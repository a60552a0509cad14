"""Pages rendered by the real app against a Redis database of their own."""

import redis

from tests.support.processes import catalog_url
from tests.support.system import REDIS_URL
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


def test_a_session_cookie_is_secure_behind_an_https_proxy(tmp_path):
    settings = Settings.from_env(
        {"TRANSCODER_TRUSTED_PROXIES": "1", "TRANSCODER_SECRET_KEY_FILE": str(tmp_path / "secret")},
        redis_url=EMPTY_DB_URL,
        storage_dir=tmp_path,
        database_url=catalog_url(tmp_path),
    )
    app = create_app(settings)
    app.extensions["transcoder"].users.add("ann", "ann's long password")
    client = app.test_client()
    form = {"name": "ann", "password": "ann's long password"}
    over_https = client.post("/signin", data=form, headers={"X-Forwarded-Proto": "https"})
    assert over_https.status_code == 302
    cookie = over_https.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    plain = app.test_client().post("/signin", data=form)
    assert "Secure" not in plain.headers["Set-Cookie"]
    # The secret was made once and kept: another app of this installation reads the same.
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600
    assert create_app(settings).secret_key == app.secret_key


def test_auth_off_warns_at_start_and_louder_on_an_open_address(tmp_path, caplog):
    def start(host: str):
        caplog.clear()
        create_app(Settings.from_env({"TRANSCODER_AUTH": "off"}, host=host, redis_url=EMPTY_DB_URL,
                                     storage_dir=tmp_path, database_url=catalog_url(tmp_path)))  # fmt: skip
        return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]

    assert any("TRANSCODER_AUTH=off" in w for w in start("127.0.0.1"))
    assert any("anyone there is admin" in w for w in start("0.0.0.0"))
    assert not any("anyone there is admin" in w for w in start("127.0.0.1"))
