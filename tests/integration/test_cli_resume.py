"""`transcoder submit` over tus against the real web app and workers: an upload that ends
`ready`, a connection cut mid-upload that the same run survives, a run killed mid-upload
that the next run continues, and ``--no-resume``'s one multipart request.

The CLI reaches the web app through a relay (``tests.support.proxy``) that paces what the
client sends (so an upload lasts long enough to be cut where the test wants) and notes
every request line it carries, with the ``Upload-Offset`` of each PATCH.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.clips import make_clip
from tests.support.processes import wait_for
from tests.support.proxy import Relay, close_both

CLI = str(Path(sys.executable).parent / "transcoder")
CHUNK = "1M"
REQUEST = re.compile(rb"(POST|PATCH|HEAD|GET|DELETE|OPTIONS) (\S+) HTTP/1\.1\r\n((?:[^\r\n]+\r\n)*)\r\n")


class WatchedRelay(Relay):
    """A relay that sends the client's bytes on at ``rate`` bytes a second and notes each
    request it carries as (method, path, Upload-Offset or None)."""

    def __init__(self, upstream: tuple[str, int], rate: float) -> None:
        self.rate = rate
        self.seen: list[tuple[str, str, int | None]] = []
        super().__init__(upstream, bind="127.0.0.1")

    def _forward(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        tail = b""
        try:
            while data := src.recv(65536):
                if from_client:
                    seen = tail + data
                    for found in REQUEST.finditer(seen):
                        if found.end() > len(tail):
                            offset = re.search(rb"(?im)^upload-offset: *(\d+)", found[3])
                            self.seen.append(
                                (found[1].decode(), found[2].decode(), int(offset[1]) if offset else None)
                            )
                    tail = seen[-4096:]
                    time.sleep(len(data) / self.rate)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            close_both(src, dst)

    def requests(self, method: str, prefix: str = "/api/") -> list[tuple[str, str, int | None]]:
        return [r for r in self.seen if r[0] == method and r[1].startswith(prefix)]


@pytest.fixture(scope="module")
def big_clip(tmp_path_factory) -> Path:
    """About 10 MB (lossless 720p), under the suite's 20 MiB upload limit."""
    return make_clip(
        tmp_path_factory.mktemp("resume") / "big.mp4", size="1280x720", seconds=6, audio=True, crf=0
    )


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def relay(system):
    parts = urlsplit(system)
    relay = WatchedRelay((parts.hostname, parts.port), rate=3 * 1024 * 1024)
    yield relay
    relay.down()


def cli_env(cache: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CACHE_HOME": str(cache)}


def start_cli(cache: Path, *args: str, log: Path) -> subprocess.Popen:
    with open(log, "w") as err:
        return subprocess.Popen(
            [CLI, *args], stdout=subprocess.PIPE, stderr=err, text=True, env=cli_env(cache)
        )


def stored(cache: Path) -> dict:
    try:
        return json.loads((cache / "transcoder" / "uploads.json").read_text())
    except (OSError, ValueError):
        return {}


def server_upload(system: str, cache: Path) -> dict | None:
    """The stored upload as the server sees it (asked directly, not through the relay)."""
    entries = list(stored(cache).values())
    if not entries:
        return None
    answer = requests.get(system + urlsplit(entries[0]["url"]).path, timeout=10)
    return answer.json() if answer.ok else None


def past(system: str, cache: Path, offset: int) -> bool:
    found = server_upload(system, cache)
    return found is not None and found["offset"] >= offset


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_sha256(system: str, video_id: str) -> str:
    return requests.get(f"{system}/api/videos/{video_id}", timeout=10).json()["source"]["sha256"]


def test_submit_over_tus_ends_ready(system, big_clip, relay, cache):
    url = f"http://127.0.0.1:{relay.port}"
    done = subprocess.run([CLI, "submit", str(big_clip), "--url", url, "--watch", "--chunk-size", "4M"],
                          capture_output=True, text=True, timeout=300, env=cli_env(cache))  # fmt: skip
    assert done.returncode == 0, done.stderr
    video_id = done.stdout.splitlines()[0]
    assert requests.get(f"{system}/api/videos/{video_id}", timeout=10).json()["state"] == "ready"
    size = big_clip.stat().st_size
    assert [r[2] for r in relay.requests("PATCH", "/api/uploads/")] == list(range(0, size, 4 * 1024 * 1024))
    assert len(relay.requests("POST", "/api/uploads/")) == 1
    assert relay.requests("POST", "/api/videos") == []
    assert source_sha256(system, video_id) == sha256(big_clip)
    assert stored(cache) == {}  # nothing left to resume


def test_connection_cut_mid_upload_resumes_in_the_same_run(system, big_clip, relay, cache, tmp_path):
    size = big_clip.stat().st_size
    log = tmp_path / "stderr"
    proc = start_cli(cache, "submit", str(big_clip), "--url", f"http://127.0.0.1:{relay.port}",
                     "--chunk-size", CHUNK, log=log)  # fmt: skip
    try:
        wait_for(lambda: past(system, cache, size // 3), 60, "a third of the upload on the server")
        relay.down()
        wait_for(lambda: "trying again" in log.read_text(), 30, "the CLI to notice the drop")
        cut_at = server_upload(system, cache)["offset"]
        assert cut_at < size
        relay.up()
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, log.read_text()
    video_id = out.strip()
    offsets = [r[2] for r in relay.requests("PATCH", "/api/uploads/")]
    assert offsets == sorted(offsets) and offsets[0] == 0
    assert len(relay.requests("POST", "/api/uploads/")) == 1  # one upload, resumed
    assert relay.requests("HEAD", "/api/uploads/"), "the CLI asked the server's offset"
    assert any(o >= cut_at for o in offsets)
    assert source_sha256(system, video_id) == sha256(big_clip)
    assert stored(cache) == {}


def test_second_run_resumes_from_the_stored_url(system, big_clip, relay, cache, tmp_path):
    size = big_clip.stat().st_size
    url = f"http://127.0.0.1:{relay.port}"
    proc = start_cli(
        cache, "submit", str(big_clip), "--url", url, "--chunk-size", CHUNK, log=tmp_path / "first"
    )
    try:
        wait_for(lambda: past(system, cache, size // 3), 60, "a third of the upload on the server")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert len(stored(cache)) == 1
    first_run = len(relay.seen)
    done = subprocess.run([CLI, "submit", str(big_clip), "--url", url, "--chunk-size", CHUNK],
                          capture_output=True, text=True, timeout=120, env=cli_env(cache))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "resuming big.mp4" in done.stderr
    second = relay.seen[first_run:]
    assert [r for r in second if r[0] == "POST"] == []  # no new upload: the stored URL
    patches = [r[2] for r in second if r[0] == "PATCH"]
    assert patches[0] >= size // 3, patches
    assert source_sha256(system, done.stdout.strip()) == sha256(big_clip)
    assert stored(cache) == {}


def test_no_resume_sends_one_multipart_request(system, big_clip, relay, cache):
    url = f"http://127.0.0.1:{relay.port}"
    done = subprocess.run([CLI, "submit", str(big_clip), "--url", url, "--no-resume"],
                          capture_output=True, text=True, timeout=120, env=cli_env(cache))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [r[:2] for r in relay.seen] == [("POST", "/api/videos")]
    assert not (cache / "transcoder").exists()
    assert source_sha256(system, done.stdout.strip()) == sha256(big_clip)


def test_refused_last_patch_shows_the_servers_reason(system, tmp_path, cache):
    junk = tmp_path / "x.mp4"
    junk.write_bytes(b"not a video " * 100_000)
    done = subprocess.run([CLI, "submit", str(junk), "--url", system, "--chunk-size", "512K"],
                          capture_output=True, text=True, timeout=60, env=cli_env(cache))  # fmt: skip
    assert done.returncode == 2
    assert "not_a_video" in done.stderr and "not a video we can read" in done.stderr
    assert stored(cache) == {}  # nothing to resume: the server refused it


def test_stored_url_of_an_upload_that_is_gone_starts_afresh(system, lavfi_clip, cache, tmp_path):
    """The server forgot the upload (expired, deleted): the next run creates a new one."""
    created = requests.post(f"{system}/api/uploads/", headers={"Tus-Resumable": "1.0.0",
                            "Upload-Length": str(lavfi_clip.stat().st_size)}, timeout=10)  # fmt: skip
    assert created.status_code == 201, created.text
    gone = created.headers["Location"]
    assert requests.delete(gone, headers={"Tus-Resumable": "1.0.0"}, timeout=10).status_code == 204
    from transcoder.upload_urls import UrlStore, default_path, key_of

    UrlStore(default_path({"XDG_CACHE_HOME": str(cache)})).put(key_of(lavfi_clip, system), gone)
    done = subprocess.run([CLI, "submit", str(lavfi_clip), "--url", system], capture_output=True, text=True,
                          timeout=60, env=cli_env(cache))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "resuming" not in done.stderr
    assert source_sha256(system, done.stdout.strip()) == sha256(lavfi_clip)
    assert stored(cache) == {}


def test_upload_deleted_while_the_connection_is_down_is_reported_and_forgotten(
    system, big_clip, relay, cache, tmp_path
):
    size = big_clip.stat().st_size
    log = tmp_path / "stderr"
    proc = start_cli(cache, "submit", str(big_clip), "--url", f"http://127.0.0.1:{relay.port}",
                     "--chunk-size", CHUNK, log=log)  # fmt: skip
    try:
        wait_for(lambda: past(system, cache, size // 3), 60, "a third of the upload on the server")
        upload_url = system + urlsplit(next(iter(stored(cache).values()))["url"]).path
        relay.down()
        wait_for(lambda: "trying again" in log.read_text(), 30, "the CLI to notice the drop")

        def deleted() -> bool:  # 423 while the server still drains the cut PATCH
            return (
                requests.delete(upload_url, headers={"Tus-Resumable": "1.0.0"}, timeout=10).status_code == 204
            )

        wait_for(deleted, 30, "the upload deleted on the server")
        relay.up()
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2
    assert "upload_gone" in log.read_text() and "start afresh" in log.read_text()
    assert stored(cache) == {}


def test_with_accounts_a_stored_url_resumes_only_for_the_user_who_made_it(accounts_url, lavfi_clip, cache):
    """The CLI's key reaches the tus routes; another user's stored upload is 404 to it, so it
    starts an upload of its own and leaves the other one as it was."""
    from tests.support.accounts import keyed, signed_in
    from transcoder.upload_urls import UrlStore, default_path, key_of

    def new_key(name: str) -> str:
        made = signed_in(accounts_url, name).post(
            f"{accounts_url}/api/keys", json={"name": "cli"}, timeout=10
        )
        return made.json()["key"]

    keys = {name: new_key(name) for name in ("alice", "bob")}
    data, tus = lavfi_clip.read_bytes(), {"Tus-Resumable": "1.0.0"}
    alice = keyed(keys["alice"])
    created = alice.post(
        f"{accounts_url}/api/uploads/", headers={**tus, "Upload-Length": str(len(data))}, timeout=10
    )
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    half = alice.patch(url, data=data[: len(data) // 2], timeout=30, headers={
        **tus, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})  # fmt: skip
    assert half.status_code == 204, half.text
    store = UrlStore(default_path({"XDG_CACHE_HOME": str(cache)}))

    def submit(who: str) -> subprocess.CompletedProcess:
        store.put(key_of(lavfi_clip, accounts_url), url)
        return subprocess.run([CLI, "submit", str(lavfi_clip), "--url", accounts_url, "--api-key", keys[who]],
                              capture_output=True, text=True, timeout=120, env=cli_env(cache))  # fmt: skip

    bobs = submit("bob")
    assert bobs.returncode == 0, bobs.stderr
    assert "resuming" not in bobs.stderr
    assert keyed(keys["bob"]).get(f"{accounts_url}/api/videos/{bobs.stdout.strip()}", timeout=10).ok
    assert alice.get(url, timeout=10).json()["offset"] == len(data) // 2  # untouched
    alices = submit("alice")
    assert alices.returncode == 0, alices.stderr
    assert "resuming" in alices.stderr
    video = alice.get(f"{accounts_url}/api/videos/{alices.stdout.strip()}", timeout=10).json()
    assert video["source"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert stored(cache) == {}
