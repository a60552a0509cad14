"""Quotas under concurrency, and what a finished video counts, through the real app.

One system of its own: two web processes (gunicorn, gevent) on one Redis database
(number 1 of the test server, which no other integration test uses) and one SQLite
catalog, one `celery worker`, accounts on. Ten uploads released at once, spread over
both web processes, against a quota with room for one: exactly one is accepted, and
the catalog and storage hold that one only. A finished video's recorded bytes are what
storage holds for it; ``GET /api/me`` says what storage holds for the user.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
from pathlib import Path

import pytest
import requests

from tests.support.accounts import keyed, operator
from tests.support.processes import catalog_url, start_web, start_worker, wait_for
from tests.support.system import prepared_services, side_system
from transcoder.accounts import reservations
from transcoder.errors import QuotaExceeded
from transcoder.records import redis_keys
from transcoder.settings import Settings
from transcoder.work.actions import reserve_upload


@pytest.fixture(scope="module")
def quotas(tmp_path_factory, lavfi_clip):
    root = tmp_path_factory.mktemp("quotas")
    with side_system(root, database=1, auth="on") as side:
        side.second = start_web(side.processes, side.env, "quotas-web2")
        start_worker(side.processes, side.env, "quotas", "--without-gossip", "--without-mingle")
        side.clip, side.storage = lavfi_clip, root / "storage"
        side.services = prepared_services(Settings.from_env(side.env))
        yield side


def user_with_key(side, name: str, *quota: str) -> tuple[str, requests.Session]:
    """A new uploader, its quotas (set with the operator's command), and a client with a key
    of its own (made in this process: each CLI start costs a second or two)."""
    user = side.services.users.add(name, f"{name}'s long password")
    if quota:
        operator(side.env, "users", "quota", name, *quota)
    return user.id, keyed(side.services.keys.create(user, "tests")[1])


def post(client: requests.Session, url: str, path: Path, name: str) -> requests.Response:
    with open(path, "rb") as fh:
        return client.post(f"{url}/api/videos", files={"file": (name, fh)}, timeout=60)


def query(side, sql: str, *args: object) -> list[tuple]:
    path = catalog_url(side.storage).removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(sql, args).fetchall()


def rows(side, owner: str) -> dict[str, int]:
    """The catalog's videos of one user: id to recorded ``stored_bytes``."""
    return dict(query(side, "SELECT id, stored_bytes FROM videos WHERE owner_id = ?", owner))


def held(side, video_id: str) -> int:
    """Bytes storage holds for one video: every file under its folder (``du -b``)."""
    folder = side.storage / "videos" / video_id
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def folders(side) -> set[str]:
    videos = side.storage / "videos"
    return {p.name for p in videos.iterdir()} if videos.exists() else set()


def reserved(side, user_id: str) -> dict:
    return side.redis.hgetall(redis_keys.reservations_key(user_id))


def test_ten_parallel_uploads_with_room_for_one_accept_exactly_one(quotas):
    size = quotas.clip.stat().st_size
    erin, client = user_with_key(quotas, "erin", "--storage", str(size + size // 2))
    before, start = folders(quotas), threading.Barrier(10)
    answers: list[requests.Response] = []

    def one(i: int) -> None:
        start.wait()
        answers.append(post(client, quotas.url if i % 2 else quotas.second, quotas.clip, f"clip{i}.mp4"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [413] * 9, [a.text[:200] for a in answers]
    assert all(a.json()["error"]["code"] == "quota_exceeded" for a in answers if a.status_code == 413)
    accepted = next(a.json()["id"] for a in answers if a.status_code == 201)
    assert set(rows(quotas, erin)) == {accepted}
    assert folders(quotas) - before == {accepted}
    assert not reserved(quotas, erin)  # every reservation given back


def test_a_refused_or_failed_upload_gives_its_reservation_back(quotas, tmp_path):
    size = quotas.clip.stat().st_size
    fay, client = user_with_key(quotas, "fay", "--storage", str(size + size // 2))
    # Refused by the quota, refused as no video, cut off mid-body: each gives back what it
    # held, so the clip, with room for exactly one, fits after them.
    (twice := tmp_path / "twice.mp4").write_bytes(b"x" * 2 * size)
    (junk := tmp_path / "junk.mp4").write_bytes(b"not a video " * (size // 12))
    over = post(client, quotas.url, twice, "twice.mp4")
    assert over.status_code == 413 and over.json()["error"]["code"] == "quota_exceeded"
    assert post(client, quotas.url, junk, "junk.mp4").status_code == 422
    assert not reserved(quotas, fay)
    port = int(quotas.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        key = client.headers["Authorization"]
        head = (f"POST /api/videos HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {key}"
                f"\r\nContent-Type: multipart/form-data; boundary=xx\r\nContent-Length: {size}\r\n\r\n"
                "--xx\r\nContent-Disposition: form-data; name=file; filename=a.mp4\r\n\r\n")  # fmt: skip
        sock.sendall(head.encode())
        wait_for(lambda: reserved(quotas, fay), 10, "the cut-off upload's reservation")
    wait_for(lambda: not reserved(quotas, fay), 30, "the cut-off upload's reservation given back")
    fits = post(client, quotas.url, quotas.clip, "fits.mp4")
    assert fits.status_code == 201, fits.text
    assert set(rows(quotas, fay)) == {fits.json()["id"]}


def test_a_finished_video_counts_what_storage_holds_for_it(quotas):
    gus, client = user_with_key(quotas, "gus")
    video_id = post(client, quotas.url, quotas.clip, "gus.mp4").json()["id"]
    # The catalog is written just after the live state that the API shows: wait for it.
    state = lambda: query(quotas, "SELECT state FROM videos WHERE id = ?", video_id)[0][0]  # noqa: E731
    wait_for(lambda: state() == "ready", 120, "gus's video recorded ready")
    recorded, on_disk = rows(quotas, gus)[video_id], held(quotas, video_id)
    assert on_disk > 2 * quotas.clip.stat().st_size  # the source and every output
    assert abs(recorded - on_disk) <= on_disk / 100, (recorded, on_disk)
    # A canceled video keeps nothing: its files are gone, its bytes given back.
    canceled = post(client, quotas.url, quotas.clip, "canceled.mp4").json()["id"]
    client.post(f"{quotas.url}/api/videos/{canceled}/cancel", timeout=10)
    assert rows(quotas, gus)[canceled] == 0 and canceled not in folders(quotas)
    me = client.get(f"{quotas.url}/api/me", timeout=10).json()["usage"]["stored_bytes"]
    du = sum(held(quotas, v) for v in rows(quotas, gus) if v in folders(quotas))
    assert abs(me - du) <= du / 100, (me, du)


def test_a_reservation_shrinks_freely_grows_checked_and_lapses(quotas, monkeypatch):
    """The reservation's own rules, on the system's Redis and catalog: less is never
    refused, more is checked, a refusal gives it back, and one a killed process left
    lapses after its TTL (an upload that outlasts its TTL is checked again)."""
    svc = quotas.services
    svc.users.add("hal", "hal's long password")
    hal = svc.users.change("hal", storage_quota=1000)
    first = reserve_upload(svc, hal, 800)
    with pytest.raises(QuotaExceeded):
        reserve_upload(svc, hal, 300)
    first.resize(500)  # the body was smaller than its Content-Length
    second = reserve_upload(svc, hal, 400)
    with pytest.raises(QuotaExceeded):
        second.resize(600)
    assert len(reserved(quotas, hal.id)) == 1  # the refused growth gave its bytes back
    first.release()
    assert not reserved(quotas, hal.id)
    monkeypatch.setattr(reservations, "TTL_S", 1)
    left = reserve_upload(svc, hal, 900)  # as if its web process were killed now

    def fits() -> bool:
        try:
            reserve_upload(svc, hal, 900).release()
        except QuotaExceeded:
            return False
        return True

    wait_for(fits, 10, "a left reservation lapsing")
    monkeypatch.setattr(reservations, "TTL_S", 900)
    later = reserve_upload(svc, hal, 900)
    with pytest.raises(QuotaExceeded):
        left.resize(900)  # lapsed: claimed again, and checked like a new one
    later.release()
