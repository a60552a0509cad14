"""tus 1.0.0 conformance of ``/api/uploads/`` against the real server: two gunicorn web
processes on one Redis database and one SQLite catalog, one `celery worker`, accounts on.

Every status the protocol names (409, 412, 404/410, 413, 415, 423, 460 for sha1 and
sha256), creation-with-upload, HEAD's ``no-store``, a PATCH cut mid-body then resumed on
the other web process (the source's sha256 still hashlib's), two PATCHes at once (one
refused, the file intact), ten parallel creations with room for one, a client that lies
about its length, a refused last PATCH that leaves nothing, termination, another user's
upload (404), a session's CSRF token, the listing of unfinished uploads and the cap on
them (five creations at once for the last place), ``Tus-Resumable`` on a 405, 409 before
413 on a complete upload, and, on a system of its own with a short expiry, an abandoned
upload swept away.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import signal
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.support.accounts import keyed, signed_in
from tests.support.clips import make_clip
from tests.support.processes import catalog_url, start_web, start_worker, wait_for
from tests.support.system import prepared_services, side_system
from transcoder.records import redis_keys
from transcoder.settings import Settings
from transcoder.uploads.locks import TTL_S
from transcoder.uploads.staging import CHECKPOINT_BYTES

pytestmark = pytest.mark.integration

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = {**TUS, "Content-Type": "application/offset+octet-stream"}


@pytest.fixture(scope="module")
def tus(tmp_path_factory, lavfi_clip):
    root = tmp_path_factory.mktemp("tus")
    # The sweep runs once ten minutes have passed: an upload made to expire here stays to be asked.
    with side_system(root, database=14, auth="on", sweep_seconds="600") as side:
        side.second = start_web(side.processes, side.env, "tus-web2")
        start_worker(side.processes, side.env, "tus", "--without-gossip", "--without-mingle")
        side.clip, side.root = lavfi_clip, root
        side.data = lavfi_clip.read_bytes()
        side.services = prepared_services(Settings.from_env(side.env))
        side.alice_id, side.alice, side.alice_key = user(side, "alice")
        yield side


def user(side, name: str, *, storage_quota: int | None = None) -> tuple[str, requests.Session, str]:
    """A new uploader and a tus client with a key of its own."""
    made = side.services.users.add(name, f"{name}'s long password")
    if storage_quota is not None:
        made = side.services.users.change(name, storage_quota=storage_quota)
    key = side.services.keys.create(made, "tests")[1]
    client = keyed(key)
    client.headers.update(TUS)
    return made.id, client, key


def metadata(name: str) -> str:
    return f"filename {b64(name.encode())},filetype {b64(b'video/mp4')}"


def create(
    client: requests.Session, url: str, length: int, name: str = "clip.mp4", **kw
) -> requests.Response:
    headers = {"Upload-Length": str(length), "Upload-Metadata": metadata(name), **kw.pop("headers", {})}
    return client.post(f"{url}/api/uploads/", headers=headers, timeout=60, **kw)


def created(client: requests.Session, url: str, length: int, name: str = "clip.mp4") -> str:
    reply = create(client, url, length, name)
    assert reply.status_code == 201, reply.text
    assert reply.headers["Location"].startswith(f"{url}/api/uploads/")
    return reply.headers["Location"]


def patch(client: requests.Session, location: str, offset: int, data, **headers: str) -> requests.Response:
    sent = {**OCTETS, "Upload-Offset": str(offset), **headers}
    return client.patch(location, data=data, headers=sent, timeout=60)


def head(client: requests.Session, location: str) -> requests.Response:
    return client.head(location, timeout=10)


def offset_of(client: requests.Session, location: str) -> int:
    reply = head(client, location)
    assert reply.status_code == 200, reply.status_code
    return int(reply.headers["Upload-Offset"])


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def staged(side, location: str) -> Path:
    return side.root / "storage-scratch" / "resumable" / location.rsplit("/", 1)[1]


def query(side, sql: str, *args: object) -> list[tuple]:
    path = catalog_url(side.root / "storage").removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(sql, args).fetchall()


def execute(side, sql: str, *args: object) -> None:
    path = catalog_url(side.root / "storage").removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(sql, args)


def reserved(side, user_id: str) -> dict:
    return {
        k.decode(): v.decode() for k, v in side.redis.hgetall(redis_keys.reservations_key(user_id)).items()
    }


def ready_video(side, client: requests.Session, video_id: str) -> dict:
    def state() -> str:
        return client.get(f"{side.url}/api/videos/{video_id}", timeout=10).json()["state"]

    wait_for(lambda: state() in ("ready", "failed"), 120, f"video {video_id} ended")
    video = client.get(f"{side.url}/api/videos/{video_id}", timeout=10).json()
    assert video["state"] == "ready", video
    return video


class RawPatch:
    """A PATCH written by hand on a socket, so a test can stop mid-body."""

    def __init__(self, url: str, location: str, key: str | None, offset: int, length: int) -> None:
        port = int(url.rsplit(":", 1)[1])
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        path = location.split("/api/uploads/", 1)[1]
        auth = f"Authorization: Bearer {key}\r\n" if key else ""  # a system without accounts: none
        head = (f"PATCH /api/uploads/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}"
                f"Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n"
                f"Upload-Offset: {offset}\r\nContent-Length: {length}\r\n\r\n")  # fmt: skip
        self.sock.sendall(head.encode())

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self) -> tuple[int, str]:
        received = b""
        while b"\r\n\r\n" not in received:
            piece = self.sock.recv(65536)
            if not piece:
                break
            received += piece
        self.sock.close()
        status = int(received.split(b" ", 2)[1])
        return status, received.decode("latin-1")


# -- the protocol ---------------------------------------------------------------------


def test_options_says_what_the_server_does_and_needs_a_user(tus):
    reply = tus.alice.options(f"{tus.url}/api/uploads/", timeout=10)
    assert reply.status_code == 204
    assert reply.headers["Tus-Resumable"] == "1.0.0" and reply.headers["Tus-Version"] == "1.0.0"
    assert reply.headers["Tus-Extension"] == "creation,creation-with-upload,termination,expiration,checksum"
    assert reply.headers["Tus-Checksum-Algorithm"] == "sha1,sha256"
    assert int(reply.headers["Tus-Max-Size"]) == Settings.from_env(tus.env).max_upload_bytes
    stranger = requests.options(f"{tus.url}/api/uploads/", timeout=10)
    assert stranger.status_code == 401 and stranger.headers["Tus-Resumable"] == "1.0.0"


def test_an_upload_in_pieces_with_checksums_becomes_a_ready_video(tus):
    data, client = tus.data, tus.alice
    location = created(client, tus.url, len(data), "pieces.mp4")
    first = head(client, location)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    assert first.headers["Upload-Offset"] == "0" and first.headers["Upload-Length"] == str(len(data))
    assert first.headers["Tus-Resumable"] == "1.0.0"
    a, b = len(data) // 3, 2 * len(data) // 3
    one = patch(
        client, location, 0, data[:a], **{"Upload-Checksum": "sha1 " + b64(hashlib.sha1(data[:a]).digest())}
    )
    assert one.status_code == 204 and one.headers["Upload-Offset"] == str(a), one.text
    two = patch(client, location, a, data[a:b],
                **{"Upload-Checksum": "sha256 " + b64(hashlib.sha256(data[a:b]).digest())})  # fmt: skip
    assert two.status_code == 204 and two.headers["Upload-Offset"] == str(b)
    assert "X-Video-Id" not in two.headers
    last = patch(client, location, b, data[b:])
    assert last.status_code == 204, last.text
    assert last.headers["Upload-Offset"] == str(len(data))
    video_id = last.headers["X-Video-Id"]
    # The last answer lost: a repeat, HEAD and GET all say the same.
    again = patch(client, location, len(data), b"")
    assert again.status_code == 204 and again.headers["X-Video-Id"] == video_id
    assert head(client, location).headers["X-Video-Id"] == video_id
    look = client.get(location, timeout=10).json()
    assert look == {"id": location.rsplit("/", 1)[1], "offset": len(data), "length": len(data),
                    "expires_at": look["expires_at"], "video_id": video_id}  # fmt: skip
    assert look["expires_at"] > time.time() + 3600
    video = ready_video(tus, client, video_id)
    assert video["source"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert video["filename"] == "pieces.mp4"
    assert not staged(tus, location).exists()
    assert location.rsplit("/", 1)[1] not in reserved(tus, tus.alice_id)


def test_creation_with_upload_sends_the_first_bytes_with_the_post(tus):
    data, client = tus.data, tus.alice
    half = len(data) // 2
    reply = create(client, tus.url, len(data), "with-upload.mp4", data=data[:half],
                   headers={"Content-Type": "application/offset+octet-stream"})  # fmt: skip
    assert reply.status_code == 201, reply.text
    assert reply.headers["Upload-Offset"] == str(half) and "Upload-Expires" in reply.headers
    location = reply.headers["Location"]
    assert offset_of(client, location) == half
    last = patch(client, location, half, data[half:])
    assert last.status_code == 204
    ready_video(tus, client, last.headers["X-Video-Id"])


def test_every_refusal_the_protocol_names(tus):
    data, client = tus.data, tus.alice
    location = created(client, tus.url, len(data), "refusals.mp4")
    # 412: no version, or another one; the answer names ours.
    for version in (None, "0.2.2"):
        headers = {**OCTETS, "Upload-Offset": "0"}
        if version is None:
            headers.pop("Tus-Resumable")
        else:
            headers["Tus-Resumable"] = version
        bare = keyed(client.headers["Authorization"].split(" ", 1)[1])
        reply = bare.patch(location, data=b"abc", headers=headers, timeout=10)
        assert reply.status_code == 412 and reply.headers["Tus-Version"] == "1.0.0", reply.text
    # 415: not an offset stream.
    reply = patch(client, location, 0, b"abc", **{"Content-Type": "application/octet-stream"})
    assert reply.status_code == 415 and reply.json()["error"]["code"] == "unsupported_media_type"
    # 409: not where the upload stands; nothing written.
    reply = patch(client, location, 5, b"abc")
    assert reply.status_code == 409 and reply.json()["error"]["code"] == "offset_mismatch"
    # 460: a body that does not match its checksum, sha1 or sha256; nothing kept.
    for algorithm in ("sha1", "sha256"):
        wrong = b64(hashlib.new(algorithm, b"other bytes").digest())
        reply = patch(client, location, 0, data[:1000], **{"Upload-Checksum": f"{algorithm} {wrong}"})
        assert reply.status_code == 460 and reply.json()["error"]["code"] == "checksum_mismatch"
    # 400: a checksum algorithm we do not offer.
    reply = patch(
        client, location, 0, data[:10], **{"Upload-Checksum": "md5 " + b64(hashlib.md5(b"").digest())}
    )
    assert reply.status_code == 400
    assert offset_of(client, location) == 0 and staged(tus, location).stat().st_size == 0
    # 413: past the server's largest upload, at creation.
    biggest = Settings.from_env(tus.env).max_upload_bytes
    reply = create(client, tus.url, biggest + 1)
    assert reply.status_code == 413 and reply.json()["error"]["code"] == "too_large"
    # 404: an id that names nothing; 404 after termination.
    assert head(client, f"{tus.url}/api/uploads/{'0' * 32}").status_code == 404
    assert patch(client, f"{tus.url}/api/uploads/{'0' * 32}", 0, b"x").status_code == 404
    assert patch(client, location, 0, data[:100]).status_code == 204
    reply = client.delete(location, timeout=10)
    assert reply.status_code == 204 and reply.headers["Tus-Resumable"] == "1.0.0"
    assert head(client, location).status_code == 404
    assert patch(client, location, 100, b"x").status_code == 404
    assert not staged(tus, location).exists()
    assert location.rsplit("/", 1)[1] not in reserved(tus, tus.alice_id)


def test_a_client_that_lies_about_its_length_keeps_nothing_past_it(tus):
    client = tus.alice
    location = created(client, tus.url, 1000, "liar.mp4")
    assert patch(client, location, 0, b"a" * 400).status_code == 204
    # A Content-Length past what is left: refused before the body is read.
    reply = patch(client, location, 400, b"b" * 700)
    assert reply.status_code == 413, reply.text
    assert reply.json()["error"]["code"] == "too_large" and "600" in reply.json()["error"]["message"]
    # A chunked body (no length stated) past what is left: refused as it passes; nothing of it kept.
    reply = patch(client, location, 400, (piece for piece in [b"c" * 300, b"c" * 300, b"c" * 300]))
    assert reply.status_code == 413, reply.text
    assert reply.json()["error"]["code"] == "too_large"
    assert offset_of(client, location) == 400
    assert staged(tus, location).read_bytes() == b"a" * 400
    client.delete(location, timeout=10)


def test_a_refused_last_patch_answers_as_post_api_videos_and_leaves_nothing(tus):
    client, junk = tus.alice, b"not a video at all " * 500
    location = created(client, tus.url, len(junk), "junk.mp4")
    assert patch(client, location, 0, junk[:5000]).status_code == 204
    reply = patch(client, location, 5000, junk[5000:])
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "not_a_video", reply.text
    assert head(client, location).status_code == 404
    assert not staged(tus, location).exists()
    assert location.rsplit("/", 1)[1] not in reserved(tus, tus.alice_id)
    assert not query(tus, "SELECT id FROM resumable_uploads WHERE id = ?", location.rsplit("/", 1)[1])


def test_an_expired_upload_is_gone_to_head_and_patch(tus):
    client = tus.alice
    location = created(client, tus.url, len(tus.data), "late.mp4")
    assert patch(client, location, 0, tus.data[:100]).status_code == 204
    execute(tus, "UPDATE resumable_uploads SET expires_at = ? WHERE id = ?", time.time() - 1,
            location.rsplit("/", 1)[1])  # fmt: skip
    for reply in (head(client, location), patch(client, location, 100, tus.data[100:200])):
        assert reply.status_code == 410, reply.status_code
    assert patch(client, location, 100, b"x").json()["error"]["code"] == "upload_expired"
    assert client.get(location, timeout=10).json()["offset"] == 100
    assert client.delete(location, timeout=10).status_code == 204
    assert head(client, location).status_code == 404


# -- interruptions and concurrency --------------------------------------------------------


def test_a_patch_cut_mid_body_keeps_what_came_and_resumes_elsewhere(tus):
    """Cut on one web process, resumed on the other: the hash's state stayed behind, so the
    stored bytes are read once more at the end, and the source's sha256 is still hashlib's."""
    data, client = tus.data, tus.alice
    location = created(client, tus.url, len(data), "cut.mp4")
    cut = len(data) // 2
    raw = RawPatch(tus.url, location, tus.alice_key, 0, len(data))
    raw.send(data[:cut])
    lock = redis_keys.upload_lock_key(location.rsplit("/", 1)[1])
    wait_for(lambda: tus.redis.exists(lock), 30, "the PATCH under way")
    raw.sock.close()  # the connection drops
    wait_for(lambda: not tus.redis.exists(lock) and offset_of(client, location) > 0, 30, "the cut recorded")
    at = offset_of(client, location)
    assert at == cut
    elsewhere = tus.second + location.split(tus.url, 1)[1]
    last = patch(client, elsewhere, at, data[at:])
    assert last.status_code == 204, last.text
    video = ready_video(tus, client, last.headers["X-Video-Id"])
    assert video["source"]["sha256"] == hashlib.sha256(data).hexdigest()


def test_two_patches_at_once_one_is_refused_and_the_file_is_whole(tus):
    data, client = tus.data, tus.alice
    location = created(client, tus.url, len(data), "parallel.mp4")
    lock = redis_keys.upload_lock_key(location.rsplit("/", 1)[1])
    raw = RawPatch(tus.url, location, tus.alice_key, 0, len(data))
    raw.send(data[:1000])
    wait_for(lambda: tus.redis.exists(lock), 30, "the first PATCH holding the lock")
    # The second, on either web process, while the first drains: 423, nothing written.
    for url in (tus.url, tus.second):
        other = patch(client, url + location.split(tus.url, 1)[1], 0, b"x" * 5000)
        assert other.status_code == 423, other.text
        assert other.json()["error"]["code"] == "upload_busy"
    raw.send(data[1000:])
    status, answer = raw.answer()
    assert status == 204, answer
    video_id = next(line.split(":", 1)[1].strip() for line in answer.splitlines()
                    if line.lower().startswith("x-video-id:"))  # fmt: skip
    assert not tus.redis.exists(lock)
    video = ready_video(tus, client, video_id)
    assert video["source"]["sha256"] == hashlib.sha256(data).hexdigest()


def gunicorn_worker(master: int) -> int:
    """The one worker process of a gunicorn master (web.server runs one): the one a PATCH is in."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def resumed_within(url: str, location: str, offset: int, seconds: float, **headers: str) -> float:
    """Empty PATCHes at ``offset`` until one is accepted (a killed holder's lock lapsed, its
    web process restarted); returns how long that took."""
    began = time.monotonic()

    def accepted() -> bool:
        try:
            sent = {**OCTETS, "Upload-Offset": str(offset), **headers}
            target = url + "/api/" + location.split("/api/", 1)[1]
            reply = requests.patch(target, data=b"", headers=sent, timeout=5)
        except (requests.ConnectionError, requests.Timeout):  # a new worker is starting
            return False
        assert reply.status_code in (204, 423), reply.text
        return reply.status_code == 204

    wait_for(accepted, seconds, "a PATCH accepted after the holder was killed")
    return time.monotonic() - began


def test_a_web_process_killed_mid_patch_keeps_its_checkpoints(tus, tmp_path):
    """A web process killed (kill -9) mid-PATCH: what reached its last checkpoint stays
    recorded, its lock lapses within its TTL, and the upload goes on from there to a video
    whose sha256 is hashlib's (the hash's state died with the process: read once more)."""
    data = make_clip(tmp_path / "big.mp4", size="1280x720", seconds=8, audio=True, crf=1).read_bytes()
    assert len(data) > 3 * CHECKPOINT_BYTES
    client = tus.alice
    location = created(client, tus.url, len(data), "killed.mp4")
    elsewhere = tus.second + location.split(tus.url, 1)[1]
    raw = RawPatch(tus.url, location, tus.alice_key, 0, len(data))
    cut = 2 * CHECKPOINT_BYTES + 12345
    raw.send(data[:cut])
    wait_for(lambda: offset_of(client, elsewhere) >= CHECKPOINT_BYTES, 30, "a checkpoint recorded")
    os.kill(gunicorn_worker(tus.processes.by_name[f"{tus.root.name}-web"].pid), signal.SIGKILL)
    raw.sock.close()
    at = offset_of(client, elsewhere)
    assert CHECKPOINT_BYTES <= at <= cut, at
    auth = {"Authorization": f"Bearer {tus.alice_key}"}
    # On the other web process (the killed one's master is starting a new worker, which
    # may take seconds on a busy machine): what is measured is the lock's lapse.
    took = resumed_within(tus.second, location, at, TTL_S + 10, **auth)
    assert took <= TTL_S + 5, took
    last = patch(client, elsewhere, at, data[at:])
    assert last.status_code == 204, last.text
    video = ready_video(tus, client, last.headers["X-Video-Id"])
    assert video["source"]["sha256"] == hashlib.sha256(data).hexdigest()


def test_a_live_patch_keeps_its_lock_past_the_ttl(tus):
    """The lock's TTL is short so a dead holder frees it soon; a live one that stalls longer
    (as the least rate allows: 8 KiB/s over 30 s windows) keeps it, renewed by its heartbeat."""
    data, client = tus.data, tus.alice
    location = created(client, tus.url, len(data), "stalled.mp4")
    lock = redis_keys.upload_lock_key(location.rsplit("/", 1)[1])
    raw = RawPatch(tus.url, location, tus.alice_key, 0, len(data))
    half = len(data) // 2
    raw.send(data[:half])  # then a stall shorter than one rate window (30 s), longer than the TTL
    token = wait_for(lambda: tus.redis.get(lock), 30, "the PATCH holding the lock")
    past = time.monotonic() + TTL_S + 3
    wait_for(lambda: tus.redis.get(lock) != token or time.monotonic() > past, TTL_S + 10, "the TTL passed")
    assert tus.redis.get(lock) == token  # renewed all along, never lapsed
    raw.send(data[half:])
    status, answer = raw.answer()
    assert status == 204, answer


class Lapsed:
    """A lock that holds nothing, as one whose TTL ran out while its PATCH stalled."""

    def refresh(self, force: bool = False) -> None:
        pass


def test_a_lapsed_lock_still_cannot_record_two_bodies(tus, monkeypatch):
    """The offset is recorded only if the upload still stands where the PATCH began: two
    PATCHes that both got past a lapsed lock, both at offset 0, cannot both record theirs."""
    from transcoder.uploads import locks, resumable, staging

    monkeypatch.setattr(locks, "hold", lambda *_: contextlib.nullcontext(Lapsed()))
    svc = tus.services
    alice = svc.users.by_name("alice")
    uploads = resumable.Resumable(svc, staging.of(svc.settings, svc.storage))
    upload = uploads.create(alice, None, 1000, "lapsed.mp4")
    both_checked = threading.Barrier(2, timeout=30)
    outcomes: list[object] = []

    def body(letter: bytes):
        both_checked.wait()  # both PATCHes are past their offset check before either writes
        yield letter * 100

    def one(letter: bytes) -> None:
        try:
            outcomes.append(uploads.append(alice, upload.id, 0, body(letter))[0].offset)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test looks at
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=one, args=(letter,)) for letter in (b"a", b"b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes)) == ["100", "OffsetMismatch"], outcomes
    uploads.terminate(alice, upload.id)


def test_ten_parallel_creations_with_room_for_one_accept_one(tus):
    size = len(tus.data)
    erin_id, erin, _ = user(tus, "erin", storage_quota=size + size // 2)
    start, answers = threading.Barrier(10), []

    def one(i: int) -> None:
        start.wait()
        answers.append(create(erin, tus.url if i % 2 else tus.second, size, f"clip{i}.mp4"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [413] * 9, [a.text[:200] for a in answers]
    assert all(a.json()["error"]["code"] == "quota_exceeded" for a in answers if a.status_code == 413)
    accepted = next(a.headers["Location"] for a in answers if a.status_code == 201)
    upload_id = accepted.rsplit("/", 1)[1]
    # Held under the upload's own id until it ends; then its room is free again.
    assert list(reserved(tus, erin_id)) == [upload_id]
    assert create(erin, tus.url, size).status_code == 413
    assert erin.delete(accepted, timeout=10).status_code == 204
    assert not reserved(tus, erin_id)
    again = created(erin, tus.url, size)
    last = patch(erin, again, 0, tus.data)
    assert last.status_code == 204, last.text
    assert not reserved(tus, erin_id)


# -- who may ----------------------------------------------------------------------------


def test_another_users_upload_is_not_found(tus):
    location = created(tus.alice, tus.url, len(tus.data), "alices.mp4")
    assert patch(tus.alice, location, 0, tus.data[:100]).status_code == 204
    _, bob, _ = user(tus, "bob")
    assert head(bob, location).status_code == 404
    assert bob.get(location, timeout=10).status_code == 404
    assert patch(bob, location, 100, b"x").status_code == 404
    assert bob.delete(location, timeout=10).status_code == 404
    assert offset_of(tus.alice, location) == 100
    tus.alice.delete(location, timeout=10)


def test_a_key_revoked_mid_body_keeps_nothing_of_that_body(tus):
    data = tus.data
    ivy = tus.services.users.add("ivy", "ivy's long password")
    made, key = tus.services.keys.create(ivy, "revoked mid-body")
    spare = keyed(tus.services.keys.create(ivy, "spare")[1])
    spare.headers.update(TUS)
    location = created(spare, tus.url, len(data), "revoked.mp4")
    raw = RawPatch(tus.url, location, key, 0, len(data))
    raw.send(data[:1000])
    wait_for(lambda: tus.redis.exists(redis_keys.upload_lock_key(location.rsplit("/", 1)[1])), 30,
             "the PATCH under way")  # fmt: skip
    tus.services.keys.revoke(made.id, ivy)
    raw.send(data[1000:])
    status, answer = raw.answer()
    assert status == 401, answer
    assert offset_of(spare, location) == 0 and staged(tus, location).stat().st_size == 0
    assert not query(tus, "SELECT id FROM videos WHERE owner_id = ?", ivy.id)
    spare.delete(location, timeout=10)


def test_a_session_needs_its_csrf_token_for_unsafe_requests(tus):
    tus.services.users.add("carol", "carol's long password")
    browser = signed_in(tus.url, "carol", "carol's long password")
    token = browser.headers.pop("X-CSRF-Token")
    browser.headers.update(TUS)
    refused = create(browser, tus.url, 100)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    browser.headers["X-CSRF-Token"] = token
    location = created(browser, tus.url, 100)
    del browser.headers["X-CSRF-Token"]
    assert head(browser, location).status_code == 200  # safe: no token needed
    assert patch(browser, location, 0, b"x").status_code == 403
    assert browser.delete(location, timeout=10).status_code == 403
    assert offset_of(browser, location) == 0
    browser.headers["X-CSRF-Token"] = token
    assert patch(browser, location, 0, b"x").status_code == 204
    assert browser.delete(location, timeout=10).status_code == 204


# -- expiry -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory):
    root = tmp_path_factory.mktemp("tus-expiry")
    with side_system(root, database=15, auth="on", upload_expiry="4", sweep_seconds="1") as side:
        start_worker(side.processes, side.env, "tus-expiry", "--without-gossip", "--without-mingle")
        side.root = root
        side.services = prepared_services(Settings.from_env(side.env))
        yield side


def test_an_abandoned_upload_expires_and_is_swept_away(short_lived):
    side = short_lived
    dan_id, dan, _ = user(side, "dan")
    reply = create(dan, side.url, 100_000)
    location = reply.headers["Location"]
    expires = reply.headers["Upload-Expires"]
    assert reply.status_code == 201 and expires.endswith(" GMT")
    assert patch(dan, location, 0, b"x" * 40_000).status_code == 204
    upload_id = location.rsplit("/", 1)[1]
    assert upload_id in reserved(side, dan_id) and staged(side, location).stat().st_size == 40_000

    def gone_or_expired() -> bool:
        return head(dan, location).status_code in (404, 410)

    wait_for(gone_or_expired, 30, "the upload past its expiry")
    assert patch(dan, location, 40_000, b"y").status_code in (404, 410)

    def swept() -> bool:
        return (
            head(dan, location).status_code == 404
            and not staged(side, location).exists()
            and upload_id not in reserved(side, dan_id)
            and not query(side, "SELECT id FROM resumable_uploads WHERE id = ?", upload_id)
        )

    wait_for(swept, 30, "the expired upload swept: bytes, record and reservation")


# -- uploads under way (F6, F3) and the protocol's corners (F5) -------------------------


def test_an_upload_whose_creation_answer_was_lost_is_listed_shown_and_deleted(tus):
    """F6: a creation-with-upload whose connection drops mid-body: the client never saw its
    Location, yet GET /api/uploads/ lists it, /api/me shows what it holds, and it can be
    resumed or deleted."""
    gina_id, gina, key = user(tus, "gina")
    assert gina.get(f"{tus.url}/api/me", timeout=10).json()["usage"]["uploads_under_way_bytes"] == 0
    port = int(tus.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    name = b64(b"lost.mp4")
    sock.sendall((f"POST /api/uploads/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
                  f"Tus-Resumable: 1.0.0\r\nUpload-Length: 50000\r\nUpload-Metadata: filename {name}\r\n"
                  "Content-Type: application/offset+octet-stream\r\nContent-Length: 50000\r\n\r\n").encode()
                 + b"x" * 20_000)  # fmt: skip
    time.sleep(0.5)
    sock.close()  # the answer, and its Location, never read

    def listed() -> list:
        return gina.get(f"{tus.url}/api/uploads/", timeout=10).json()["uploads"]

    wait_for(lambda: listed() and listed()[0]["offset"] == 20_000, 20, "the lost upload listed")
    other = created(gina, tus.url, 1000, "newer.mp4")
    reply = gina.get(f"{tus.url}/api/uploads/", timeout=10)
    assert reply.status_code == 200 and reply.headers["Tus-Resumable"] == "1.0.0"
    found = reply.json()["uploads"]
    assert [u["filename"] for u in found] == ["newer.mp4", "lost.mp4"]  # newest first
    assert found[0]["url"] == other
    lost = found[1]
    assert {"id", "url", "offset", "length", "created_at", "expires_at"} <= set(lost)
    assert lost["length"] == 50_000 and lost["expires_at"] > lost["created_at"]
    assert gina.get(f"{tus.url}/api/me", timeout=10).json()["usage"]["uploads_under_way_bytes"] == 51_000
    assert offset_of(gina, lost["url"]) == 20_000
    assert gina.delete(lost["url"], timeout=10).status_code == 204
    assert [u["url"] for u in listed()] == [other]
    assert gina.get(f"{tus.url}/api/me", timeout=10).json()["usage"]["uploads_under_way_bytes"] == 1000
    theirs = tus.alice.get(f"{tus.url}/api/uploads/", timeout=10).json()["uploads"]
    assert other not in [u["url"] for u in theirs]  # another user's uploads are not listed
    assert requests.get(f"{tus.url}/api/uploads/", timeout=10).status_code == 401


def test_a_user_may_hold_only_so_many_unfinished_uploads_even_at_once(tus):
    """F3: TRANSCODER_UPLOADS_UNDER_WAY (20) unfinished uploads; five creations at once for
    the last place: one passes, four are 429 naming the cap and the way on."""
    cap = Settings.from_env(tus.env).uploads_under_way
    hana_id, hana, _ = user(tus, "hana")
    for i in range(cap - 1):
        created(hana, tus.url, 1000, f"u{i}.mp4")
    start, answers = threading.Barrier(5), []

    def one(i: int) -> None:
        start.wait()
        answers.append(create(hana, tus.url if i % 2 else tus.second, 1000, f"race{i}.mp4"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [201, 429, 429, 429, 429], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 429)
    error = refused.json()["error"]
    assert error["code"] == "too_many_uploads" and str(cap) in error["message"]
    assert "GET /api/uploads/" in error["message"] and refused.headers["Tus-Resumable"] == "1.0.0"
    rows = query(tus, "SELECT COUNT(*) FROM resumable_uploads WHERE owner_id = ?", hana_id)
    assert rows == [(cap,)] and len(reserved(tus, hana_id)) == cap
    # Deleting one frees its place.
    first = hana.get(f"{tus.url}/api/uploads/", timeout=10).json()["uploads"][0]["url"]
    assert hana.delete(first, timeout=10).status_code == 204
    created(hana, tus.url, 1000, "again.mp4")


def test_a_method_an_upload_url_does_not_take_still_says_tus_resumable(tus):
    """F5a: a 405 is an answer under /api/uploads/ too."""
    location = created(tus.alice, tus.url, 1000, "405.mp4")
    for method in ("PUT", "POST"):
        reply = tus.alice.request(method, location, timeout=10)
        assert reply.status_code == 405 and reply.headers["Tus-Resumable"] == "1.0.0", method
    reply = tus.alice.put(f"{tus.url}/api/uploads/", timeout=10)
    assert reply.status_code == 405 and reply.headers["Tus-Resumable"] == "1.0.0"
    assert tus.alice.delete(location, timeout=10).status_code == 204


def test_a_patch_at_a_wrong_offset_on_a_complete_upload_is_409(tus):
    """F5b: the offset is what is wrong, not the body's size."""
    data = tus.data
    location = created(tus.alice, tus.url, len(data), "complete.mp4")
    last = patch(tus.alice, location, 0, data)
    assert last.status_code == 204, last.text
    again = patch(tus.alice, location, 0, data[:1000])
    assert again.status_code == 409 and again.json()["error"]["code"] == "offset_mismatch", again.text
    assert patch(tus.alice, location, len(data), b"").status_code == 204  # the repeated last PATCH
