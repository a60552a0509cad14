"""Accounts and the door that locks: every route of the app, from the Flask URL map, called
without a user, as another user (session and key), with a revoked key and as a disabled
user; owners, admins, sign-in and its cookie, sign-out, quotas, the built-in users.

One system of its own (web app, worker, Redis database, SQLite catalog) with accounts on,
its users made with the operator's commands (`transcoder users ...`, `keys ...`).
"""

from __future__ import annotations

import json
import re

import pytest
import requests
import websocket

from tests.support.accounts import PASSWORDS, keyed, make_users, operator, signed_in
from tests.support.processes import start_web, start_worker, wait_for
from tests.support.system import recorded, side_system

ENV_KEY = "a-key-from-the-environment"


def upload(client: requests.Session, url: str, path, name: str) -> requests.Response:
    with open(path, "rb") as fh:
        return client.post(f"{url}/api/videos", files={"file": (name, fh)}, timeout=60)


@pytest.fixture(scope="module")
def door(tmp_path_factory, lavfi_clip):
    root = tmp_path_factory.mktemp("door")
    with side_system(root, database=6, auth="on", api_keys=ENV_KEY) as side:
        start_worker(side.processes, side.env, "door", "--without-gossip", "--without-mingle")
        make_users(side.env)
        made = operator(side.env, "keys", "create", "--user", "alice", "--name", "laptop")
        alice_key = made.strip().splitlines()[-1]
        alice = signed_in(side.url, "alice")
        video = upload(alice, side.url, lavfi_clip, "alice-holiday.mp4")
        assert video.status_code == 201, video.text
        video_id = video.json()["id"]
        state = lambda: alice.get(f"{side.url}/api/videos/{video_id}", timeout=10).json()["state"]  # noqa: E731
        wait_for(lambda: state() == "ready", 120, "alice's video ready")
        side.alice, side.alice_key, side.video_id = alice, alice_key, video_id
        # An unfinished resumable upload of alice's, for the URL map's walk.
        tus = {"Tus-Resumable": "1.0.0", "Upload-Length": "1000"}
        made = keyed(alice_key).post(f"{side.url}/api/uploads/", headers=tus, timeout=10)
        assert made.status_code == 201, made.text
        side.upload_id = made.headers["Location"].rsplit("/", 1)[1]
        side.clip, side.root = lavfi_clip, root
        yield side


def test_the_operator_made_the_users_and_the_key(door):
    listing = operator(door.env, "users", "list")
    assert re.search(r"^root\s+admin\s+active", listing, re.M) and re.search(
        r"^alice\s+uploader", listing, re.M
    )
    assert operator(door.env, "keys", "list", "--user", "alice").split()[1:3] == ["active", "laptop"]
    me = keyed(door.alice_key).get(f"{door.url}/api/me", timeout=10).json()
    assert me["name"] == "alice" and me["role"] == "uploader" and me["usage"]["stored_bytes"] > 0


# The values each route's parameters take: alice's video, and names that exist in it.
VALUES = {"name": "144p", "part_id": "v00", "filename": "init.mp4", "key_id": None}
PUBLIC = {"static", "ops.healthz", "ops.readyz", "sign_in.submit", "sign_in.form"}
#: Needs no user, but is not open to all: Prometheus's token, or loopback under an allowed name.
BY_TOKEN = {"ops.scrape"}


def routes(door) -> list[tuple[str, str, str]]:
    """(endpoint, method, URL) for every rule of the app, its parameters filled in."""
    from transcoder.settings import Settings
    from web import create_app

    settings = Settings.from_env(door.env)
    app = create_app(settings)
    alice_keys = keyed(door.alice_key).get(f"{door.url}/api/keys", timeout=10).json()["keys"]
    values = {**VALUES, "video_id": door.video_id, "key_id": alice_keys[0]["id"], "upload_id": door.upload_id}
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        args = {}
        for arg in rule.arguments:
            args[arg] = "poster.jpg" if arg == "filename" and "hls" not in rule.rule else values[arg]
        path = rule.rule
        for arg, value in args.items():
            path = re.sub(rf"<(?:[^:<>]+:)?{arg}>|<any\([^)]*\):{arg}>", value, path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"} or {"OPTIONS"}):  # tus's discovery
            found.append((rule.endpoint, method, path))
    assert {e for e, _, _ in found} >= {
        "api.upload",
        "files.hls_file",
        "ws.socket",
        "account.revoke_key",
        "uploads.append",
        "uploads.discover",
        "uploads.listing",
    }
    return found


def body_of(reply: requests.Response) -> str:
    """The body; of an event stream, what it sends before its first keep-alive (the
    snapshots a stream starts with come first, then it waits for news)."""
    if not reply.headers.get("Content-Type", "").startswith("text/event-stream"):
        return reply.text
    lines = []
    for line in reply.iter_lines(decode_unicode=True):
        if line.startswith(": keep-alive"):
            break
        lines.append(line)
    reply.close()
    return "\n".join(lines)


def test_every_route_answers_only_to_its_user(door):
    everyone = routes(door)
    bob = signed_in(door.url, "bob")
    bob_key = bob.post(f"{door.url}/api/keys", json={"name": "bob's"}, timeout=10).json()["key"]
    for who, client in {"nobody": requests.Session(), "bob": bob, "bob's key": keyed(bob_key),
                        "a made-up key": keyed("tk_" + "x" * 43)}.items():  # fmt: skip
        for endpoint, method, path in everyone:
            if endpoint in BY_TOKEN:  # whoever it is, a page on another name (rebinding) reads nothing
                reply = client.request(method, door.url + path, headers={"Host": "rebind.evil"}, timeout=30)
                assert reply.status_code == 401, (who, method, path, reply.status_code)
                continue
            if endpoint in PUBLIC or (endpoint == "account.sign_out" and who == "bob"):
                continue
            reply = client.request(method, door.url + path, timeout=30, allow_redirects=False, stream=True,
                                   data={"csrf_token": "x"} if method == "POST" else None,
                                   headers={"Tus-Resumable": "1.0.0"})  # fmt: skip
            assert "alice-holiday" not in body_of(reply), (who, method, path)
            if who in ("nobody", "a made-up key"):
                if path.startswith("/api/") or who == "a made-up key":
                    assert reply.status_code == 401, (who, method, path, reply.status_code)
                    assert reply.json()["error"]["code"] == "unauthorized"
                else:
                    assert reply.status_code == 302 and "/signin?next=" in reply.headers["Location"], (
                        who,
                        path,
                    )
            elif (
                door.video_id in path
                or door.upload_id in path
                or endpoint in ("account.revoke_key", "account.revoke_key_page")
            ):
                # Another's video (or key, or upload) is not found: its id is not even confirmed.
                assert reply.status_code == 404, (who, method, path, reply.status_code)
    # Nothing of alice's was touched by any of it.
    video = door.alice.get(f"{door.url}/api/videos/{door.video_id}", timeout=10).json()
    assert video["state"] == "ready"
    assert not keyed(door.alice_key).get(f"{door.url}/api/keys", timeout=10).json()["keys"][0]["revoked"]


def test_public_routes_are_only_the_documented_ones(door):
    public = {endpoint for endpoint, _, _ in routes(door) if endpoint in PUBLIC | BY_TOKEN}
    assert public == (PUBLIC | BY_TOKEN) - {"static"}
    for path in ("/healthz", "/readyz", "/metrics", "/signin", "/static/app.css"):
        assert requests.get(door.url + path, timeout=10).status_code == 200, path


def test_a_page_fetched_without_signing_in_gives_no_api(door):
    """The measured attack: fetch / with curl, keep its cookie and token, call the API."""
    stranger = requests.Session()
    page = stranger.get(door.url + "/", timeout=10)
    assert page.url.endswith("/signin?next=/")
    assert stranger.get(f"{door.url}/api/videos", timeout=10).status_code == 401
    assert stranger.get(f"{door.url}/videos", timeout=10, allow_redirects=False).status_code == 302


def test_uploaders_see_their_own_and_admins_see_all(door):
    bob = signed_in(door.url, "bob")
    mine = upload(bob, door.url, door.clip, "bob-cat.mp4").json()["id"]
    assert [v["id"] for v in bob.get(f"{door.url}/api/videos", timeout=10).json()["videos"]] == [mine]
    assert door.alice.get(f"{door.url}/api/videos/{mine}", timeout=10).status_code == 404
    root = signed_in(door.url, "root")
    everything = {
        v["id"]: v["owner"] for v in root.get(f"{door.url}/api/videos", timeout=10).json()["videos"]
    }
    assert everything[mine] == "bob" and everything[door.video_id] == "alice"
    only_alice = root.get(f"{door.url}/api/videos", params={"owner": "alice"}, timeout=10).json()["videos"]
    assert {v["id"] for v in only_alice} == {door.video_id}
    assert root.get(f"{door.url}/api/videos", params={"owner": "nobody"}, timeout=10).status_code == 400
    assert "bob-cat.mp4" in root.get(f"{door.url}/videos", timeout=10).text
    assert "bob-cat.mp4" not in door.alice.get(f"{door.url}/videos", timeout=10).text
    # Media is its owner's too, and no shared cache may keep it.
    poster = door.alice.get(f"{door.url}/api/videos/{door.video_id}/renditions/144p.mp4", timeout=10)
    assert poster.ok and "private" in poster.headers["Cache-Control"] and "Cookie" in poster.headers["Vary"]
    bob.delete(f"{door.url}/api/videos/{mine}", timeout=10)


def test_live_streams_carry_only_the_users_own_videos(door):
    bob = signed_in(door.url, "bob")
    assert bob.get(f"{door.url}/api/videos/{door.video_id}/events", timeout=10).status_code == 404
    cookie = "; ".join(f"{c.name}={c.value}" for c in bob.cookies)
    host = door.url.removeprefix("http://")
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(f"ws://{host}/api/ws", timeout=10)
    assert refused.value.status_code == 401
    ws = websocket.create_connection(f"ws://{host}/api/ws", cookie=cookie, timeout=60)
    ws.send(json.dumps({"subscribe": [door.video_id]}))
    assert json.loads(ws.recv())["error"]["code"] == "not_found"
    ws.send(json.dumps({"subscribe": "all"}))
    mine = upload(bob, door.url, door.clip, "bob-live.mp4").json()["id"]
    upload(door.alice, door.url, door.clip, "alice-live.mp4")  # bob must never hear of this one
    seen = set()
    while True:
        message = json.loads(ws.recv())
        seen.add(message["filename"])
        if message["id"] == mine and message["state"] == "ready":
            break
    assert seen == {"bob-live.mp4"}
    ws.close()
    # An event stream of every change in the library carries bob's videos only.
    stream = bob.get(f"{door.url}/api/events", stream=True, timeout=60)
    upload(door.alice, door.url, door.clip, "alice-again.mp4")
    upload(bob, door.url, door.clip, "bob-again.mp4")
    first = next(line for line in stream.iter_lines() if line.startswith(b"data: {"))
    stream.close()
    assert json.loads(first[6:])["owner"] == "bob"


def test_sign_in_cookie_rotation_sign_out_and_a_restart(door):
    browser = requests.Session()
    browser.get(f"{door.url}/signin", timeout=10)
    before = browser.cookies.get("transcoder_session")
    wrong = browser.post(f"{door.url}/signin", data={"name": "alice", "password": "guess"}, timeout=30)
    assert wrong.status_code == 401 and "Wrong name or password" in wrong.text
    form = {"name": "alice", "password": PASSWORDS["alice"], "next": "//evil.example/"}
    reply = browser.post(f"{door.url}/signin", data=form, allow_redirects=False, timeout=30)
    assert reply.status_code == 302 and reply.headers["Location"] == "/"  # never off this site
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert browser.cookies.get("transcoder_session") != before
    token = re.search(r'name="csrf-token" content="([^"]+)"', browser.get(f"{door.url}/", timeout=10).text)[1]
    # The session's unsafe requests need the page's token.
    assert browser.post(f"{door.url}/api/keys", json={"name": "x"}, timeout=10).status_code == 403
    # Another web process of this installation (a restart) knows the session: the secret is kept.
    other = start_web(door.processes, door.env, "door-web-again")
    assert browser.get(f"{other}/api/me", timeout=10).json()["name"] == "alice"
    stolen = dict(browser.cookies)
    out = browser.post(f"{door.url}/signout", data={"csrf_token": token}, allow_redirects=False, timeout=10)
    assert out.status_code == 302
    # The cookie from before signing out opens nothing any more, on any process.
    for url in (door.url, other):
        assert requests.get(f"{url}/api/me", cookies=stolen, timeout=10).status_code == 401


def test_failed_sign_ins_slow_down_but_never_lock_out(door):
    for _ in range(3):
        wrong = requests.post(f"{door.url}/signin", data={"name": "root", "password": "nope"}, timeout=30)
        assert wrong.status_code == 401
    failures = [
        int(v) for k, v in ((k, door.redis.get(k)) for k in door.redis.scan_iter("*sign-in-failures*"))
    ]
    assert failures and max(failures) >= 3  # the next answer waits 2 s (0.5 s doubled per failure)
    signed_in(door.url, "root")  # the right password still gets in


def test_a_sign_in_posted_from_another_site_is_refused_by_its_referer(door):
    """A browser that sends no Origin still sends the page a post came from: a foreign page
    posting the sign-in form (to sign its visitor in as someone else, where no CSRF token
    can stop it) is refused by its Referer before any password is checked."""
    form = {"name": "alice", "password": PASSWORDS["alice"]}
    host = door.url.removeprefix("http://")
    for referer, status in (("http://evil.example/page", 403), (f"https://{host}/signin", 403),
                            (f"http://{host}/signin", 302)):  # fmt: skip
        reply = requests.post(f"{door.url}/signin", data=form, headers={"Referer": referer},
                              allow_redirects=False, timeout=30)  # fmt: skip
        assert reply.status_code == status, (referer, reply.status_code)
        assert ("transcoder_session" in reply.cookies) == (status == 302), referer


def test_revoked_keys_and_disabled_users_are_shut_out(door):
    carol_password = "carol's long password"
    operator(door.env, "users", "add", "carol", "--password-stdin", stdin=carol_password + "\n")
    carol = signed_in(door.url, "carol", carol_password)
    made = carol.post(f"{door.url}/api/keys", json={"name": "one"}, timeout=10).json()
    assert keyed(made["key"]).get(f"{door.url}/api/videos", timeout=10).ok
    assert carol.delete(f"{door.url}/api/keys/{made['id']}", timeout=10).json()["revoked"] is True
    assert keyed(made["key"]).get(f"{door.url}/api/videos", timeout=10).status_code == 401
    second = carol.post(f"{door.url}/api/keys", json={"name": "two"}, timeout=10).json()["key"]
    operator(door.env, "users", "disable", "carol")
    assert keyed(second).get(f"{door.url}/api/videos", timeout=10).status_code == 401
    assert carol.get(f"{door.url}/api/me", timeout=10).status_code == 401
    wrong = requests.post(
        f"{door.url}/signin", data={"name": "carol", "password": carol_password}, timeout=30
    )
    assert wrong.status_code == 401


def test_keys_from_the_environment_belong_to_the_service_user(door):
    service = keyed(ENV_KEY)
    made = upload(service, door.url, door.clip, "from-a-script.mp4").json()["id"]
    assert service.get(f"{door.url}/api/me", timeout=10).json()["name"] == "service"
    assert door.alice.get(f"{door.url}/api/videos/{made}", timeout=10).status_code == 404
    assert wait_terminal_as(service, door.url, made)["owner"] == "service"


def wait_terminal_as(client, url, video_id):
    def done():
        video = client.get(f"{url}/api/videos/{video_id}", timeout=10).json()
        return video if video["state"] in ("ready", "failed", "canceled") else None

    return wait_for(done, 120, f"video {video_id} finishing")


def test_an_upload_past_a_quota_is_refused_and_nothing_is_stored(door):
    dave_password = "dave's long password"
    operator(door.env, "users", "add", "dave", "--password-stdin", stdin=dave_password + "\n")
    size = door.clip.stat().st_size
    operator(door.env, "users", "quota", "dave", "--storage", str(size + size // 2))
    dave = signed_in(door.url, "dave", dave_password)
    first = upload(dave, door.url, door.clip, "first.mp4")
    assert first.status_code == 201
    before, files = recorded(door.root / "storage"), sorted((door.root / "storage" / "videos").iterdir())
    second = upload(dave, door.url, door.clip, "second.mp4")
    assert second.status_code == 413 and second.json()["error"]["code"] == "quota_exceeded"
    assert (
        "storage quota" in second.json()["error"]["message"]
        and "used of" in second.json()["error"]["message"]
    )
    assert recorded(door.root / "storage") == before
    assert sorted((door.root / "storage" / "videos").iterdir()) == files
    # The daily quota counts what was uploaded, also after it is deleted.
    operator(door.env, "users", "quota", "dave", "--storage", "0", "--daily", str(size + size // 2))
    dave.delete(f"{door.url}/api/videos/{first.json()['id']}", timeout=10)
    again = upload(dave, door.url, door.clip, "again.mp4")
    assert again.status_code == 413 and "daily upload quota" in again.json()["error"]["message"]
    usage = dave.get(f"{door.url}/api/me", timeout=10).json()["usage"]
    assert usage["uploaded_today_bytes"] == size and usage["daily_quota"] == size + size // 2
    page = dave.get(f"{door.url}/account", timeout=10).text
    assert "Uploaded in the last 24 hours" in page and re.search(
        r'id="today">[0-9.]+ [KMG]iB of [0-9.]+ [KMG]iB', page
    )


def test_a_finished_video_counts_its_outputs(door):
    """One video (alice's): the bytes its record keeps are what storage holds for it, its
    source and every output (not the sum of several uploads' sources)."""
    import contextlib
    import sqlite3

    from tests.support.processes import catalog_url

    path = catalog_url(door.root / "storage").removeprefix("sqlite:///")

    def row() -> tuple[str, int]:
        with contextlib.closing(sqlite3.connect(path)) as db:
            return db.execute(
                "SELECT state, stored_bytes FROM videos WHERE id = ?", (door.video_id,)
            ).fetchone()

    wait_for(lambda: row()[0] == "ready", 30, "alice's video recorded ready")
    folder = door.root / "storage" / "videos" / door.video_id
    on_disk = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    assert on_disk > 2 * door.clip.stat().st_size  # the source and every output
    assert abs(row()[1] - on_disk) <= on_disk / 100, (row(), on_disk)
