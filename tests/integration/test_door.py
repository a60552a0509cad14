"""The door's hinges, each tried as an attacker would: a foreign Host (DNS rebinding), a
foreign Origin on the WebSocket, an oversized WebSocket message, two installations on
one Redis server, a made-up Last-Event-ID, an upload that trickles."""

from __future__ import annotations

import json
import socket
import time

import pytest
import redis
import requests
import websocket

from tests.support.processes import Processes, environment, running_redis, start_web, start_worker, wait_for
from tests.support.requests_to_api import upload, wait_terminal

FOREIGN = "rebind.evil"


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/api/ws"


def test_only_allowed_host_names_are_served(base_url, system, data_dir):
    video_id = wait_terminal(system, upload(system, data_dir / "bikes.mp4").json()["id"])["id"]
    port = base_url.rsplit(":", 1)[1]
    # The media routes too: a rebound page must not fetch a video's files either.
    media = [f"/api/videos/{video_id}/{path}" for path in ("renditions/144p.mp4", "hls/master.m3u8",
             "hls/144p/index.m3u8", "hls/144p/v00/init.mp4", "poster.jpg", "storyboard.vtt")]  # fmt: skip
    for path in media:
        assert requests.get(base_url + path, timeout=10).status_code == 200, path  # served to its own name
    for path in ("/", "/videos", "/api/videos", f"/api/videos/{video_id}", "/static/app.css", *media):
        refused = requests.get(base_url + path, headers={"Host": f"{FOREIGN}:{port}"}, timeout=10)
        assert refused.status_code == 400, path
        assert refused.json()["error"]["code"] == "bad_host"
        assert "TRANSCODER_ALLOWED_HOSTS" in refused.json()["error"]["message"]
        assert video_id not in refused.text
    # The measured attack: a page on another name that resolves here deletes a video.
    rebound = {"Host": f"{FOREIGN}:{port}", "Origin": f"http://{FOREIGN}:{port}"}
    assert (
        requests.delete(f"{base_url}/api/videos/{video_id}", headers=rebound, timeout=10).status_code == 400
    )
    assert requests.get(f"{base_url}/api/videos/{video_id}", timeout=10).status_code == 200
    # Probes send the pod's address: they are answered whatever the name. So is Prometheus,
    # with its token (test_weaknesses); without it, a page on another name reads nothing.
    for path in ("/healthz", "/readyz"):
        assert requests.get(base_url + path, headers={"Host": "10.1.2.3:8000"}, timeout=10).ok, path
    rebound_metrics = requests.get(base_url + "/metrics", headers={"Host": f"{FOREIGN}:{port}"}, timeout=10)
    assert rebound_metrics.status_code == 401
    for name in ("localhost", "127.0.0.1", "[::1]"):
        assert requests.get(base_url + "/", headers={"Host": f"{name}:{port}"}, timeout=10).ok, name


def test_a_foreign_page_cannot_open_the_websocket(base_url):
    host = base_url.removeprefix("http://")
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(ws_url(base_url), origin="http://evil.example", timeout=10)
    assert refused.value.status_code == 403
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(ws_url(base_url), origin=f"http://{FOREIGN}", host=FOREIGN, timeout=10)
    own = websocket.create_connection(ws_url(base_url), origin=f"http://{host}", timeout=10)
    own.send(json.dumps({"subscribe": "all"}))
    own.close()


def test_an_oversized_websocket_message_closes_the_connection(base_url):
    ws = websocket.create_connection(ws_url(base_url), timeout=30)
    try:
        ws.send("[" * (1024 * 1024))
        frame = ws.recv_data_frame(control_frame=True)[1]
        # Closed as too big (1009), or reset while the rest was still on its way.
        assert frame.opcode == websocket.ABNF.OPCODE_CLOSE
        assert int.from_bytes(frame.data[:2], "big") == 1009
    except (ConnectionResetError, BrokenPipeError, websocket.WebSocketConnectionClosedException):
        pass
    assert ws.connected is False or ws.recv() == ""
    # Nesting deep enough to overflow a parser is answered, and the connection lives on.
    ws = websocket.create_connection(ws_url(base_url), timeout=30)
    ws.send("[" * 60_000)
    assert json.loads(ws.recv())["error"]["code"] == "bad_request"
    ws.send(json.dumps({"subscribe": ["f" * 32]}))
    assert json.loads(ws.recv())["error"]["code"] == "not_found"
    ws.close()


def open_streams(url: str) -> float:
    text = requests.get(url + "/metrics", timeout=10).text
    line = next(line for line in text.splitlines() if line.startswith('transcoder_streams_open{kind="sse"}'))
    return float(line.split()[-1])


@pytest.mark.parametrize("sent", ["x", "abc:1", "f" * 32 + ":", "f" * 32 + ":١٢", "f" * 32 + ":" + "9" * 40])
def test_a_made_up_last_event_id_is_refused_and_holds_nothing(base_url, sent):
    before = open_streams(base_url)
    response = requests.get(f"{base_url}/api/events", headers={"Last-Event-ID": sent.encode()}, timeout=10)
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_event_id"
    assert open_streams(base_url) == before


def test_a_stream_that_fails_before_it_starts_is_not_counted_open(base_url):
    before = open_streams(base_url)
    for _ in range(3):
        missing = requests.get(f"{base_url}/api/videos/{'e' * 32}/events", timeout=10)
        assert missing.status_code == 404
    assert open_streams(base_url) == before


def test_an_upload_that_trickles_is_cut(service_env, processes, tmp_path):
    env = {**service_env, "TRANSCODER_UPLOAD_MIN_RATE": "1000", "TRANSCODER_UPLOAD_RATE_WINDOW": "2"}
    url = start_web(processes, env, "web-trickle")
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(
            b"POST /api/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n"
            b'Content-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name="file"; '
            b'filename="slow.mp4"\r\n\r\n'
        )
        conn.setblocking(False)
        reply, deadline = b"", time.monotonic() + 60
        while b"upload_too_slow" not in reply and time.monotonic() < deadline:
            try:
                conn.sendall(b"0123456789")  # 10 bytes at a time: far under 1,000 bytes/s
            except OSError:
                pass
            try:
                reply += conn.recv(4096)
            except BlockingIOError:
                time.sleep(0.2)  # the client's trickle, the behaviour tried: 50 bytes/s at most
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b"bytes/s" in reply


def test_two_installations_on_one_redis_server_share_nothing(tmp_path, data_dir):
    """Each keeps its keys, its queues and its channels under its own prefix: neither hears
    the other's videos, and a worker of one never takes the other's work."""
    with running_redis(tmp_path, persistent=False) as server:
        (tmp_path / "logs").mkdir()
        processes = Processes(tmp_path / "logs")
        try:
            sites = {}
            for database in (0, 8):
                url = server.url.rsplit("/", 1)[0] + f"/{database}"
                env = environment(url, tmp_path / f"storage{database}", redis_prefix="")
                sites[database] = (start_web(processes, env, f"web{database}"), env)
            start_worker(processes, sites[0][1], "only0", "--without-gossip", "--without-mingle")
            sockets = {
                d: websocket.create_connection(ws_url(url), timeout=60) for d, (url, _) in sites.items()
            }
            for ws in sockets.values():
                ws.send(json.dumps({"subscribe": "all"}))
            first = upload(sites[0][0], data_dir / "bikes.mp4").json()["id"]
            wait_for(lambda: json.loads(sockets[0].recv())["id"] == first, 60, "site 0 hears its video")
            # Site 0's worker takes its work (out of its own queue, under its own prefix).
            wait_for(
                lambda: json.loads(sockets[0].recv())["state"] == "processing", 60, "site 0's work taken"
            )
            # Site 8 has no worker: its video waits, and site 0's worker never takes it.
            second = upload(sites[8][0], data_dir / "bikes.mp4").json()["id"]
            heard = json.loads(sockets[8].recv())
            assert heard["id"] == second, "site 8 heard a video of site 0"
            assert requests.get(f"{sites[8][0]}/api/videos/{second}", timeout=10).json()["state"] == "queued"
            assert requests.get(f"{sites[8][0]}/api/videos/{first}", timeout=10).status_code == 404
            for database in (0, 8):
                names = [k.decode() for k in redis.Redis(port=server.port, db=database).keys("*")]
                assert names and all(n.startswith(f"transcoder:{database}:") for n in names), names
            for ws in sockets.values():
                ws.close()
        finally:
            processes.stop_all()
