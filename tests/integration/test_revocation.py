"""A revocation ends what it opened: revoking a key (API, Account page, CLI), disabling a
user, changing a password and signing out each end every event stream and WebSocket
opened with that credential within a keep-alive interval or so, while another
credential's streams go on; reconnects are refused. A marker lost in Redis still ends
them, from the catalog, a little later. And the key right: a key creates keys only if
made with the right to.

One web server of its own (Redis database 3, accounts on, a keep-alive a second); no
worker: the streams follow the (empty) library, and their keep-alives show they live.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time

import pytest
import requests
import websocket
from sqlalchemy.exc import SQLAlchemyError

from tests.support.accounts import keyed, operator, signed_in
from tests.support.processes import catalog_url, wait_for
from tests.support.system import side_system
from transcoder.accounts.revocations import CATALOG_EVERY, Revocations, Watch
from transcoder.accounts.users import Users
from transcoder.records import redis_keys
from transcoder.records.catalog import Catalog
from transcoder.records.database import make_engine

KEEPALIVE = 1.0
#: How long a revoked stream may take to end: a few keep-alive intervals (one is the
#: promise), well under the catalog's own re-check (CATALOG_EVERY intervals), so a stream
#: that ended only from the catalog does not pass for one told at once.
BOUND = 5 * KEEPALIVE


#: The users of this module, one per case (a revocation leaves its user changed).
NAMES = ("keyed-api", "keyed-page", "keyed-cli", "disabled", "forgetful", "rekeyed", "leaving", "unheard",
         "maker", "bystander")  # fmt: skip


@pytest.fixture(scope="module")
def side(tmp_path_factory):
    root = tmp_path_factory.mktemp("revocation")
    with side_system(root, database=3, auth="on", stream_keepalive=str(KEEPALIVE)) as side:
        # Made in this process, not with `transcoder users add` (nine CLI starts): the
        # operator's commands tried here are the revocations.
        catalog = Catalog(make_engine(catalog_url(root / "storage")))
        side.users = Users(catalog)
        for name in NAMES:
            side.users.add(name, password_of(name))
        side.root = root
        yield side
        catalog.engine.dispose()


def password_of(name: str) -> str:
    return f"{name}'s long password"


def person(side, name: str) -> tuple[str, requests.Session]:
    """A browser signed in as ``name``."""
    return password_of(name), signed_in(side.url, name, password_of(name))


def key_of(side, browser: requests.Session) -> tuple[str, str]:
    """(id, key) of a new key, made by a signed-in user."""
    made = browser.post(f"{side.url}/api/keys", json={"name": "a key"}, timeout=10)
    assert made.status_code == 201, made.text
    return made.json()["id"], made.json()["key"]


@pytest.fixture(scope="module")
def bystander(side) -> tuple[requests.Session, str]:
    """Another user, signed in and with a key, whose streams no revocation here touches."""
    _, browser = person(side, "bystander")
    return browser, key_of(side, browser)[1]


class Sse:
    """An event stream of every change in the library, read on a thread of its own."""

    def __init__(self, url: str, client: requests.Session) -> None:
        self.reply = client.get(f"{url}/api/events", stream=True, timeout=30)
        assert self.reply.status_code == 200, self.reply.text
        self.lines: list[tuple[float, str]] = []
        self.done = False
        threading.Thread(target=self._read, daemon=True).start()
        wait_for(lambda: self.lines, 10, "the event stream's first line")

    def _read(self) -> None:
        try:
            for line in self.reply.iter_lines(decode_unicode=True):
                self.lines.append((time.monotonic(), line))
        except Exception:  # noqa: BLE001 - ended, or closed by the test (the reply's file gone)
            pass
        finally:
            self.done = True

    def reason(self) -> str | None:
        text = [line for _, line in self.lines]
        if "event: end" not in text:
            return None
        return json.loads(text[text.index("event: end") + 1].removeprefix("data: "))["reason"]

    def alive_since(self, moment: float) -> bool:
        return not self.done and any(at > moment and "keep-alive" in line for at, line in self.lines)

    def close(self) -> None:
        self.reply.close()


class Socket:
    """A WebSocket, read on a thread of its own until the server closes it."""

    def __init__(self, url: str, **credential: object) -> None:
        self.ws = websocket.create_connection(
            url.replace("http://", "ws://") + "/api/ws", timeout=30, **credential
        )
        self.close_code: int | None = None
        self.close_reason = ""
        self.frames: list[float] = []
        self.done = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            while True:
                # Frames as they come (recv_data_frame answers a close itself, and loses it
                # when the server has already gone).
                frame = self.ws.recv_frame()
                self.frames.append(time.monotonic())
                if frame.opcode == websocket.ABNF.OPCODE_PING:
                    self.ws.pong(frame.data)
                elif frame.opcode == websocket.ABNF.OPCODE_CLOSE:
                    self.close_code = int.from_bytes(frame.data[:2], "big")
                    self.close_reason = frame.data[2:].decode()
                    return
        except (websocket.WebSocketException, OSError):
            pass
        finally:
            self.done = True

    def alive_since(self, moment: float) -> bool:
        # The server pings every keep-alive interval.
        return not self.done and any(at > moment for at in self.frames)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()


def by_key(key: str) -> dict:
    return {"header": [f"Authorization: Bearer {key}"]}


def by_session(browser: requests.Session) -> dict:
    return {"cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())}


def streams(url: str, client: requests.Session, credential: dict) -> list:
    return [Sse(url, client), Socket(url, **credential)]


def refused(url: str, client: requests.Session, credential: dict) -> None:
    """A reconnect with this credential is refused, as an event stream and as a WebSocket."""
    assert client.get(f"{url}/api/events", timeout=10).status_code == 401
    with pytest.raises(websocket.WebSocketBadStatusException) as failed:
        websocket.create_connection(url.replace("http://", "ws://") + "/api/ws", timeout=10, **credential)
    assert failed.value.status_code == 401


def ended(affected: list, reason: str, others: list, bound: float = BOUND) -> None:
    """Each affected stream ends within ``bound`` with ``reason``; the others live on."""
    revoked_at = time.monotonic()
    wait_for(lambda: all(s.done for s in affected), bound, f"the streams ended ({reason})")
    for stream in affected:
        if isinstance(stream, Sse):
            assert stream.reason() == reason
        else:
            assert (stream.close_code, stream.close_reason) == (1008, reason)
    wait_for(lambda: all(s.alive_since(revoked_at) for s in others), 3 * KEEPALIVE, "the others live on")


def cleanup(*groups: list) -> None:
    for group in groups:
        for stream in group:
            stream.close()


@pytest.mark.parametrize("how", ["api", "page", "cli"])
def test_a_revoked_key_ends_its_streams(side, how):
    name = f"keyed-{how}"
    _, browser = person(side, name)
    key_id, key = key_of(side, browser)
    _, other_key = key_of(side, browser)
    affected = streams(side.url, keyed(key), by_key(key))
    others = streams(side.url, keyed(other_key), by_key(other_key)) + [Sse(side.url, browser)]
    try:
        if how == "api":
            assert browser.delete(f"{side.url}/api/keys/{key_id}", timeout=10).json()["revoked"] is True
        elif how == "page":
            page = browser.post(f"{side.url}/account/keys/{key_id}/revoke", allow_redirects=False, timeout=10)
            assert page.status_code == 302
        else:
            operator(side.env, "keys", "revoke", key_id)
        ended(affected, "key_revoked", others)
        refused(side.url, keyed(key), by_key(key))
    finally:
        cleanup(affected, others)


def test_disabling_a_user_ends_every_stream_of_theirs(side, bystander):
    _, browser = person(side, "disabled")
    _, key = key_of(side, browser)
    other = bystander[0]
    affected = streams(side.url, keyed(key), by_key(key)) + streams(side.url, browser, by_session(browser))
    others = streams(side.url, other, by_session(other))
    try:
        operator(side.env, "users", "disable", "disabled")
        ended(affected, "user_disabled", others)
        refused(side.url, keyed(key), by_key(key))
        refused(side.url, browser, by_session(browser))
    finally:
        cleanup(affected, others)
    # Enabled again, the user's key opens streams that last (the mark left behind ends nothing).
    side.users.change("disabled", disabled=False)
    again, opened = Sse(side.url, keyed(key)), time.monotonic()
    try:
        wait_for(lambda: again.alive_since(opened + 3 * KEEPALIVE), 8 * KEEPALIVE, "a stream after, lasting")
    finally:
        again.close()


def test_a_new_password_ends_every_session_and_key_and_their_streams(side, bystander):
    _, browser = person(side, "forgetful")
    _, key = key_of(side, browser)
    other_key = bystander[1]
    affected = streams(side.url, keyed(key), by_key(key)) + streams(side.url, browser, by_session(browser))
    others = streams(side.url, keyed(other_key), by_key(other_key))
    try:
        operator(side.env, "users", "passwd", "forgetful", "--password-stdin", stdin="a brand new password\n")
        ended(affected, "password_changed", others)
        refused(side.url, keyed(key), by_key(key))
        refused(side.url, browser, by_session(browser))
    finally:
        cleanup(affected, others)
    # A thief who had the session or the key keeps nothing: the key is revoked for good.
    fresh = signed_in(side.url, "forgetful", "a brand new password")
    assert all(k["revoked"] for k in fresh.get(f"{side.url}/api/keys", timeout=10).json()["keys"])
    assert keyed(key).get(f"{side.url}/api/me", timeout=10).status_code == 401


def test_a_new_password_revokes_every_key_in_the_catalog(side):
    """What `transcoder users passwd` does to the catalog (``Users.change``), run here: in
    a mutant's copy the CLI would run the original code, installed in the venv."""
    _, browser = person(side, "rekeyed")
    keys = [key_of(side, browser)[1] for _ in range(2)]
    assert all(keyed(key).get(f"{side.url}/api/me", timeout=10).ok for key in keys)
    side.users.change("rekeyed", password="another long password")
    assert [keyed(key).get(f"{side.url}/api/me", timeout=10).status_code for key in keys] == [401, 401]
    assert browser.get(f"{side.url}/api/me", timeout=10).status_code == 401


def test_signing_out_ends_the_sessions_streams_only(side):
    _, browser = person(side, "leaving")
    _, key = key_of(side, browser)
    other_tab = signed_in(side.url, "leaving", password_of("leaving"))  # another session of theirs
    affected = streams(side.url, browser, by_session(browser))
    others = streams(side.url, other_tab, by_session(other_tab)) + [Sse(side.url, keyed(key))]
    stolen = by_session(browser)
    try:
        token = browser.headers["X-CSRF-Token"]
        out = browser.post(
            f"{side.url}/signout", data={"csrf_token": token}, allow_redirects=False, timeout=10
        )
        assert out.status_code == 302
        ended(affected, "signed_out", others)
        thief = requests.Session()
        thief.headers["Cookie"] = stolen["cookie"]
        refused(side.url, thief, stolen)
    finally:
        cleanup(affected, others)


def test_a_revocation_redis_never_heard_of_ends_the_streams_from_the_catalog(side):
    """As if Redis lost the marker (restarted empty, or out of the CLI's reach): the key is
    revoked in the catalog only, and its streams end at their next look at the catalog."""
    _, browser = person(side, "unheard")
    key_id, key = key_of(side, browser)
    affected = streams(side.url, keyed(key), by_key(key))
    others = [Sse(side.url, browser)]
    try:
        path = catalog_url(side.root / "storage").removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(path, timeout=10)) as db, db:
            db.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ?", (time.time(), key_id))
        ended(affected, "key_revoked", others, bound=(CATALOG_EVERY + 5) * KEEPALIVE)
        refused(side.url, keyed(key), by_key(key))
    finally:
        cleanup(affected, others)


def test_a_key_creates_keys_only_if_made_with_that_right(side):
    _, browser = person(side, "maker")
    _, plain = key_of(side, browser)
    no = keyed(plain).post(f"{side.url}/api/keys", json={"name": "bred"}, timeout=10)
    assert no.status_code == 403 and no.json()["error"]["code"] == "forbidden"
    assert "--may-create-keys" in no.json()["error"]["message"]
    assert keyed(plain).post(f"{side.url}/account/keys", data={"name": "bred"}, timeout=10).status_code == 403
    made = operator(side.env, "keys", "create", "--user", "maker", "--may-create-keys")
    able = made.strip().splitlines()[-1]
    made = keyed(able).post(f"{side.url}/api/keys", json={"name": "bred"}, timeout=10)
    assert made.status_code == 201 and made.json()["may_create_keys"] is False
    # What a key makes never has the right: a stolen key cannot pass it on.
    passed_on = keyed(able).post(
        f"{side.url}/api/keys", json={"name": "x", "may_create_keys": True}, timeout=10
    )
    assert passed_on.status_code == 403
    bred = made.json()["key"]
    assert keyed(bred).post(f"{side.url}/api/keys", json={"name": "again"}, timeout=10).status_code == 403
    # A signed-in user makes keys as before, with the right if asked.
    own = browser.post(f"{side.url}/api/keys", json={"name": "mine", "may_create_keys": True}, timeout=10)
    assert own.status_code == 201 and own.json()["may_create_keys"] is True
    assert (
        keyed(own.json()["key"]).post(f"{side.url}/api/keys", json={"name": "n"}, timeout=10).status_code
        == 201
    )
    listing = browser.get(f"{side.url}/api/keys", timeout=10).json()["keys"]
    assert [k["may_create_keys"] for k in listing] == [False, True, False, True, False]


def test_a_watch_asks_the_catalog_when_a_marker_changes_and_goes_on_while_the_database_is_down(redis_client):
    """The watch alone, on the suite's Redis: a marker is news, the catalog's verdict decides,
    a database that is down ends nothing and is asked again at the next look."""
    every, asked = 0.3, []  # the catalog is asked anyway only after ten looks: 3 s
    answers = iter([None, SQLAlchemyError("down"), "key_revoked"])

    def verdict():
        asked.append(time.monotonic())
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    marker = redis_keys.revoked_key("key", "f" * 16)
    redis_client.delete(marker)
    watch = Watch(redis_client, [marker, redis_keys.revoked_key("user", "u" * 32)], verdict, every)

    def look():
        wait_for(lambda: watch.next_check_in() == 0, 5, "the watch's next look due")
        return watch.ended()

    assert look() is None and not asked  # nothing new: no question to the catalog
    Revocations(redis_client, 60).key_revoked("f" * 16)
    assert look() is None and len(asked) == 1  # news, but the catalog says it holds (a stale mark)
    assert look() is None and len(asked) == 1  # the same news is not asked about twice
    Revocations(redis_client, 60).key_revoked("f" * 16)
    assert look() is None and len(asked) == 2  # new news; the database is down: go on
    assert look() == "key_revoked" and len(asked) == 3  # asked again: revoked
    assert watch.ended() == "key_revoked"  # for good
    redis_client.delete(marker)


def test_news_just_before_a_look_does_not_put_the_look_off(redis_client):
    """A stream waits for news no longer than the watch's next look: an event that comes at
    0.85 of an interval no longer makes the look wait one interval more (ended 1.1 intervals
    after a revoke, up to 1.9 before)."""
    every = 1.0
    watch = Watch(redis_client, [redis_keys.revoked_key("key", "e" * 16)], lambda: None, every)
    began = time.monotonic()
    assert watch.next_check_in() <= every
    # The two pauses below play the stream's own waits, whose timing is what is tried here.
    time.sleep(0.85 * every)  # the stream wakes for an event
    assert watch.ended() is None  # too early to look
    left = watch.next_check_in()
    assert left <= every - (time.monotonic() - began) + 0.01
    time.sleep(left)  # the stream's next wait ends when the look is due
    watch.verdict = lambda: "key_revoked"
    Revocations(redis_client, 60).key_revoked("e" * 16)
    assert watch.ended() == "key_revoked"
    redis_client.delete(redis_keys.revoked_key("key", "e" * 16))


def test_an_upload_on_its_way_when_its_key_is_revoked_keeps_nothing(side, data_dir):
    """Found by an outside attack: a key revoked (or a user disabled) while an upload's body
    was still arriving, and the upload was accepted all the same. Now it is 401 once the
    body has come, and nothing is stored or recorded."""
    import socket

    from tests.support.system import recorded

    side.users.add("in-flight", password_of("in-flight"))
    _, browser = person(side, "in-flight")
    key_id, key = key_of(side, browser)
    clip = (data_dir / "bikes.mp4").read_bytes()
    body = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="late.mp4"\r\n'
            b"Content-Type: video/mp4\r\n\r\n" + clip + b"\r\n--b--\r\n")  # fmt: skip
    head = (f"POST /api/videos HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")  # fmt: skip
    before = recorded(side.root / "storage")
    host, port = side.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as conn:
        conn.sendall(head.encode() + body[: len(body) // 2])

        def admitted() -> bool:  # its key checked at the door: the key's first use is recorded
            keys = browser.get(f"{side.url}/api/keys", timeout=10).json()["keys"]
            return any(k["id"] == key_id and k["last_used_at"] for k in keys)

        wait_for(admitted, 30, "the upload let in, its body still on its way")
        assert browser.delete(f"{side.url}/api/keys/{key_id}", timeout=10).json()["revoked"] is True
        conn.sendall(body[len(body) // 2 :])
        answer = b""
        while b"}}" not in answer and (chunk := conn.recv(65536)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 401"), answer[:300]
    assert b"nothing was kept" in answer, answer
    assert recorded(side.root / "storage") == before
    assert not list((side.root / "storage").glob("videos/*/source*"))
