"""Nothing reads a body it is about to refuse: who sends it, the CSRF token, the route's
limit and the uploader's quota are all decided from the headers, before the body is sent.

A raw socket sends a request's headers and waits for the answer without sending the
body: an answer at all shows the body was never read (a server reading it would wait
for it). The web process's temporary folder (``TMPDIR``, where Werkzeug spools a
multipart file) and its scratch folder are watched: nothing is written there, and the
process holds nothing open in them that it did not hold before.

One web process of its own, with accounts on (Redis database 0 of the test server, which
no other test uses), and no worker: nothing here needs a video encoded.
"""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
import requests

from tests.support.accounts import make_users, operator, signed_in
from tests.support.processes import Processes, environment, start_web
from tests.support.system import REDIS_URL

MiB = 1024 * 1024
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def bodies(tmp_path_factory):
    root = tmp_path_factory.mktemp("bodies")
    url = REDIS_URL.rsplit("/", 1)[0] + "/0"
    client = redis.Redis.from_url(url)
    client.flushdb()
    processes = Processes(root)
    env = environment(url, root / "storage", auth="on", max_upload_bytes=str(1024 * MiB))
    env["TMPDIR"] = str(root / "tmp")
    (root / "tmp").mkdir()
    try:
        make_users(env)
        made = operator(env, "keys", "create", "--user", "alice", "--name", "laptop")
        web = start_web(processes, env, "bodies-web")
        side = Side(
            web, env, processes.by_name["bodies-web"].pid, root / "tmp", Path(env["TRANSCODER_SCRATCH_DIR"])
        )
        side.key = made.strip().splitlines()[-1]
        side.alice = signed_in(web, "alice")
        yield side
    finally:
        processes.stop_all()
        client.flushdb()


class Side:
    def __init__(self, url: str, env: dict, pid: int, tmp: Path, scratch: Path) -> None:
        self.url, self.env, self.pid, self.tmp, self.scratch = url, env, pid, tmp, scratch
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.key = ""
        self.alice: requests.Session | None = None

    def written(self) -> tuple[list[str], set[str]]:
        """What the web process has in its temporary and scratch folders: the files there,
        and the files it holds open there (a spooled upload is unlinked as it is made)."""
        files = sorted(
            str(p) for folder in (self.tmp, self.scratch) if folder.exists() for p in folder.rglob("*")
        )
        return files, held_open(self.pid, (str(self.tmp), str(self.scratch)))


def held_open(group: int, folders: tuple[str, ...]) -> set[str]:
    """The files under ``folders`` that the processes of ``group`` (gunicorn and its worker)
    hold open, as /proc names them."""
    held = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != group:
                continue
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith(folders):
                    held.add(f"{pid}:{target}")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return held


def ask(side: Side, head: str, body: bytes = b"") -> tuple[int, bytes, bytes]:
    """Send a request's headers (and ``body``, if any) and read the answer: (status,
    headers, body). Times out if the server waits for a body it was not sent."""
    with socket.create_connection((side.host, side.port), timeout=15) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n" + body)
        return read_answer(conn)


def read_answer(conn: socket.socket, reply: bytes = b"") -> tuple[int, bytes, bytes]:
    while b"\r\n\r\n" not in reply:
        chunk = conn.recv(65536)
        assert chunk, f"the connection closed without an answer: {reply[:200]!r}"
        reply += chunk
    head, _, rest = reply.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?im)^content-length:\s*(\d+)", head)[1])
    while len(rest) < length:
        chunk = conn.recv(65536)
        assert chunk, "the connection closed mid-answer"
        rest += chunk
    return int(head.split()[1]), head, rest[:length]


def multipart_head(path: str, length: int, *extra: str) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: multipart/form-data; boundary=b",
             f"Content-Length: {length}", *extra]  # fmt: skip
    return "\n".join(lines) + "\n"


def cookie(side: Side) -> str:
    return "Cookie: transcoder_session=" + side.alice.cookies["transcoder_session"]


def token(side: Side) -> str:
    return side.alice.headers["X-CSRF-Token"]


def error_code(body: bytes) -> str:
    return json.loads(body)["error"]["code"]


def test_a_huge_sign_in_or_anonymous_upload_is_refused_before_its_body(bodies):
    """The measured attack: 200 MiB "signing in" (or uploading without a user) was written
    whole to a temporary file before the 401."""
    before = bodies.written()
    status, _, body = ask(bodies, multipart_head("/signin", 200 * MiB))
    assert status == 413 and error_code(body) == "too_large"
    assert b"at most 65536 bytes" in body
    status, _, body = ask(bodies, multipart_head("/api/videos", 200 * MiB))
    assert status == 401 and error_code(body) == "unauthorized"
    # A user's route that takes no file: refused as soon as its length is known.
    status, _, body = ask(
        bodies, multipart_head("/api/keys", 200 * MiB, f"Authorization: Bearer {bodies.key}")
    )
    assert status == 413 and error_code(body) == "too_large"
    assert bodies.written() == before and before[0] == []


def chunked(side: Side, path: str, content_type: str, chunks, *extra: str) -> tuple[int, bytes, bytes, bool]:
    """Send a body without a length (chunked), one piece at a time, stopping early if the
    server answers or closes first; then read the answer: (status, headers, body, whether
    the whole body was sent before it)."""
    head = "\n".join([f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}",
                      "Transfer-Encoding: chunked", *extra]) + "\n\n"  # fmt: skip
    with socket.create_connection((side.host, side.port), timeout=15) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode())
        conn.setblocking(False)
        early, whole = b"", False
        try:
            for piece in chunks:
                try:
                    early += conn.recv(65536)
                    break  # answered (or closed) before the whole body was sent
                except BlockingIOError:
                    pass
                conn.setblocking(True)
                conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                conn.setblocking(False)
            else:
                conn.setblocking(True)
                conn.sendall(b"0\r\n\r\n")
                whole = True
        except (BrokenPipeError, ConnectionResetError):
            pass
        conn.setblocking(True)
        return (*read_answer(conn, early), whole)


def test_a_body_without_a_length_is_cut_at_the_routes_limit(bodies):
    before = bodies.written()
    alice = (cookie(bodies), f"X-CSRF-Token: {token(bodies)}")
    # Small, it is read as any body: a key is made.
    made = chunked(bodies, "/api/keys", "application/json", [b'{"name": ', b'"chunked"}'], *alice)
    assert made[0] == 201, made
    # 8 MiB in 64 KiB pieces: cut once past 64 KiB, never read whole.
    piece = b'{"name": "' + b"x" * (LIMIT - 10)
    status, _, body, _ = chunked(bodies, "/api/keys", "application/json", [piece] * 128, *alice)
    assert status == 413 and error_code(body) == "too_large"
    # The attack again, without a length: a multipart "sign-in" of 8 MiB.
    part = b'--b\r\nContent-Disposition: form-data; name="name"; filename="f"\r\n\r\n'
    status, _, body, _ = chunked(
        bodies, "/signin", "multipart/form-data; boundary=b", [part] + [b"y" * LIMIT] * 128
    )
    assert status == 413 and error_code(body) == "too_large"
    assert bodies.written()[0] == before[0] == []


def test_the_csrf_token_of_an_upload_comes_in_its_header_never_out_of_its_body(bodies, data_dir):
    """upload.js sends the token in X-CSRF-Token; a multipart body is never parsed to find one."""
    with open(data_dir / "bikes.mp4", "rb") as fh:
        sent = bodies.alice.post(f"{bodies.url}/api/videos", files={"file": ("bikes.mp4", fh)}, timeout=60)
    assert sent.status_code == 201, sent.text
    before = bodies.written()
    # 100 MiB announced, the token only in a form field of the body: refused before it is sent.
    status, _, body = ask(bodies, multipart_head("/api/videos", 100 * MiB, cookie(bodies)))
    assert status == 403 and error_code(body) == "forbidden"
    # Even a whole small body holding the right token in its field is not looked into.
    form = (
        f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token(bodies)}\r\n'
        '--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\nxx\r\n--b--\r\n'
    ).encode()
    status, _, body = ask(bodies, multipart_head("/api/videos", len(form), cookie(bodies)), form)
    assert status == 403 and error_code(body) == "forbidden"
    assert bodies.written() == before
    # The pages' own small url-encoded forms still send it as a field.
    page = requests.post(f"{bodies.url}/account/keys", data={"csrf_token": token(bodies), "name": "page"},
                         cookies=bodies.alice.cookies, timeout=10)  # fmt: skip
    assert page.status_code == 200 and "page" in page.text


ODD_TOKENS = ["é", "\xff" * 32, "", " ", "x" * 4000]


@pytest.mark.parametrize("odd", ODD_TOKENS, ids=range(len(ODD_TOKENS)))
def test_an_odd_csrf_token_is_403_never_500(bodies, odd):
    head = [
        "POST /api/keys HTTP/1.1",
        "Host: 127.0.0.1",
        cookie(bodies),
        f"X-CSRF-Token: {odd}",
        "Content-Length: 0",
    ]
    status, _, body = ask(bodies, "\n".join(head) + "\n")
    assert status == 403 and error_code(body) == "forbidden"
    # In a page's form field: as sent, as UTF-8, and bytes that are no UTF-8 at all.
    for field in (quote(odd), quote("日本語"), "%ED%A0%80", "%FF%FE", quote(token(bodies) + "é")):
        page = requests.post(f"{bodies.url}/account/keys", data=f"csrf_token={field}&name=n",
                             headers={"Content-Type": "application/x-www-form-urlencoded"},
                             cookies=bodies.alice.cookies, timeout=10)  # fmt: skip
        assert page.status_code == 403 and page.json()["error"]["code"] == "forbidden", field


def test_an_upload_past_the_quota_is_refused_before_its_body(bodies):
    """The quota is weighed against the announced length: an over-quota user's 100 MiB is
    refused before it is sent, and nothing is written."""
    operator(bodies.env, "users", "quota", "bob", "--storage", "1000")
    with_key = operator(bodies.env, "keys", "create", "--user", "bob", "--name", "b").strip().splitlines()[-1]
    before = bodies.written()
    status, _, body = ask(
        bodies, multipart_head("/api/videos", 100 * MiB, f"Authorization: Bearer {with_key}")
    )
    assert status == 413 and error_code(body) == "quota_exceeded"
    assert bodies.written() == before


def test_an_upload_without_a_length_is_cut_once_past_the_quota(bodies):
    """No length to weigh before reading: the running count is weighed as the body
    arrives, and a 64 MiB upload with room for 1,000 bytes is refused long before its end."""
    operator(bodies.env, "users", "quota", "bob", "--storage", "1000")
    key = operator(bodies.env, "keys", "create", "--user", "bob", "--name", "c").strip().splitlines()[-1]
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n\r\n'
    pieces = [part] + [b"z" * (1024 * 1024)] * 64
    status, _, body, whole = chunked(
        bodies, "/api/videos", "multipart/form-data; boundary=b", pieces, f"Authorization: Bearer {key}"
    )
    assert status == 413 and error_code(body) == "quota_exceeded"
    assert not whole
    assert bodies.written()[0] == []


def closed_while_sending(conn: socket.socket, piece: bytes, most: int) -> bool:
    """Go on sending the body after the answer, never pausing long enough for the idle
    timeout: whether the server ends the connection before ``most`` bytes were sent."""
    sent = 0
    while sent < most:
        conn.setblocking(False)
        try:
            if conn.recv(65536) == b"":
                return True
        except BlockingIOError:
            pass
        except OSError:
            return True
        conn.setblocking(True)
        try:
            conn.sendall(piece)
        except OSError:  # reset: the server closed with our bytes unread
            return True
        sent += len(piece)
    return False


def test_a_refused_body_is_not_read_to_its_end(bodies):
    """Once refused, the body is not drained: the server answers and closes the connection
    while the client is still sending (gunicorn alone would read the 200 MiB it announced,
    to drop it, before the next request on the connection)."""
    heads = (
        (multipart_head("/signin", 200 * MiB), b"x" * 65536),
        (multipart_head("/api/videos", 200 * MiB), b"x" * 65536),
        (
            "POST /signin HTTP/1.1\nHost: 127.0.0.1\nTransfer-Encoding: chunked\n",
            b"10000\r\n" + b"x" * 0x10000 + b"\r\n",
        ),
    )
    for head, piece in heads:
        with socket.create_connection((bodies.host, bodies.port), timeout=30) as conn:
            conn.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n" + piece + piece)
            status, answer_head, _ = read_answer(conn)
            assert status in (401, 413), head
            # Said in the answer, so a client sends its next request on a new connection.
            assert re.search(rb"(?im)^connection:\s*close\s*$", answer_head), answer_head
            assert closed_while_sending(conn, piece, 100 * MiB), "the refused body was read on"
