"""Live streams from a web process's hub: many videos on one stream, SSE and WebSocket alike,
resuming, the per-client cap, connections that hold on without sending, and the hub re-reading
what was published while its subscription was down."""

import json
import socket
import threading
import time

import redis
import requests
import websocket
from redis.connection import parse_url

from tests.support.clips import SMALL_MEDIA, video_record
from tests.support.processes import wait_for
from tests.support.proxy import Relay
from tests.support.requests_to_api import upload, wait_terminal
from tests.support.system import REDIS_URL, side_services, side_system
from transcoder.client import TERMINAL, parse_sse
from transcoder.live.hub import Hub
from transcoder.records import transitions


def sse_events(url, headers=None, timeout=180, until=None, opened=None):
    """(event, id, data) of a stream until it ends, or until ``until(events)`` is true.
    ``opened`` (an Event) is set once the stream answered: the server follows it by then."""
    events = []
    with requests.get(url, stream=True, headers=headers or {}, timeout=(10, timeout)) as response:
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/event-stream")
        if opened is not None:
            opened.set()
        for event, event_id, data in parse_sse(response.iter_lines(decode_unicode=True)):
            events.append((event, event_id, json.loads(data)))
            if until is not None and until(events):
                break
    return events


def ws_connect(base_url, **options):
    return websocket.create_connection(
        base_url.replace("http://", "ws://") + "/api/ws", timeout=60, **options
    )


def ws_follow(ws, video_ids):
    """Subscribe, then collect snapshots until every one of the videos has ended."""
    ws.send(json.dumps({"subscribe": video_ids}))
    seen, running = [], set(video_ids)
    while running:
        message = json.loads(ws.recv())
        assert "id" in message, message
        seen.append(message)
        if message["state"] in TERMINAL:
            running.discard(message["id"])
    return seen


def test_one_stream_follows_several_videos_and_ends_when_all_have(system, data_dir, lavfi_clip):
    first = upload(system, data_dir / "bikes.mp4").json()["id"]
    second = upload(system, lavfi_clip).json()["id"]
    events = sse_events(f"{system}/api/events?video={first}&video={second}")
    assert events[-1][0] == "end" and {e for e, _, _ in events[:-1]} == {"video"}
    videos = [v for e, _, v in events if e == "video"]
    # Each video's current snapshot first, then its changes in order, ending in its final state.
    assert {videos[0]["id"], videos[1]["id"]} == {first, second}
    for video_id in (first, second):
        mine = [v for v in videos if v["id"] == video_id]
        assert [v["seq"] for v in mine] == sorted({v["seq"] for v in mine})
        assert mine[-1]["state"] == "ready"
        assert mine[-1] == requests.get(f"{system}/api/videos/{video_id}", timeout=10).json()
    assert [i for _, i, _ in events[:-1]] == [f"{v['id']}:{v['seq']}" for v in videos]


def test_a_client_that_reconnects_with_its_last_event_id_misses_nothing(system, long_clip):
    video_id = upload(system, long_clip).json()["id"]
    url = f"{system}/api/events?video={video_id}"
    before = sse_events(url, until=lambda ev: len(ev) == 2)
    last_id = before[-1][1]

    def changed_while_away():
        return (
            requests.get(f"{system}/api/videos/{video_id}", timeout=10).json()["seq"]
            > before[-1][2]["seq"] + 1
        )

    wait_for(changed_while_away, 60, "changes to the video while the client is away")
    after = sse_events(url, headers={"Last-Event-ID": last_id})
    videos = [v for e, _, v in after if e == "video"]
    # Not sent again what it had; the current state first, then on to the end.
    assert videos[0]["seq"] > before[-1][2]["seq"]
    assert videos[-1]["state"] == "ready" and after[-1][0] == "end"
    # Reconnecting after the end: the final snapshot once more, then the end.
    again = sse_events(url, headers={"Last-Event-ID": f"{video_id}:1"})
    assert [(e, v.get("state")) for e, _, v in again] == [("video", "ready"), ("end", None)]


def test_the_library_stream_sees_new_uploads_through_to_their_end(system, lavfi_clip):
    seen: list[dict] = []
    box: dict = {}
    opened = threading.Event()

    def listen():
        def done(events):
            ids = {v["id"] for _, _, v in events}
            return box.get("id") in ids and any(
                v["id"] == box["id"] and v["state"] == "ready" for _, _, v in events
            )

        seen.extend(
            v for _, _, v in sse_events(f"{system}/api/events", until=done, timeout=120, opened=opened)
        )

    reader = threading.Thread(target=listen, daemon=True)
    reader.start()
    assert opened.wait(30), "the library stream never opened"
    box["id"] = upload(system, lavfi_clip).json()["id"]
    reader.join(150)
    mine = [v for v in seen if v["id"] == box["id"]]
    assert mine and mine[-1]["state"] == "ready"
    assert [v["seq"] for v in mine] == sorted({v["seq"] for v in mine})


def test_sse_and_websocket_clients_see_the_same_sequence(system, long_clip):
    video_id = upload(system, long_clip).json()["id"]
    ws = ws_connect(system)
    over_sse: list[dict] = []
    reader = threading.Thread(
        target=lambda: over_sse.extend(
            v for e, _, v in sse_events(f"{system}/api/videos/{video_id}/events") if e == "video"
        ),
        daemon=True,
    )
    reader.start()
    over_ws = ws_follow(ws, [video_id])
    reader.join(60)
    ws.close()
    sse_seqs, ws_seqs = [v["seq"] for v in over_sse], [v["seq"] for v in over_ws]
    assert over_ws[-1]["state"] == over_sse[-1]["state"] == "ready"
    # Both joined at nearly the same moment: the same changes from there on, in the same order.
    common = max(sse_seqs[0], ws_seqs[0])
    assert [s for s in sse_seqs if s >= common] == [s for s in ws_seqs if s >= common]
    assert len([s for s in ws_seqs if s >= common]) >= 3
    assert over_ws[-1] == over_sse[-1]


def test_websocket_messages_it_cannot_act_on_get_an_error_and_the_connection_stays(system, lavfi_clip):
    ws = ws_connect(system)
    ws.send("not json")
    assert json.loads(ws.recv())["error"]["code"] == "bad_request"
    ws.send(json.dumps({"subscribe": "some"}))
    assert json.loads(ws.recv())["error"]["code"] == "bad_request"
    unknown = "f" * 32
    ws.send(json.dumps({"subscribe": [unknown]}))
    error = json.loads(ws.recv())["error"]
    assert error["code"] == "not_found" and error["videos"] == [unknown]
    # Still usable: "all" follows the library, which includes a new upload.
    ws.send(json.dumps({"subscribe": "all"}))
    video_id = upload(system, lavfi_clip).json()["id"]
    states = []
    while not states or states[-1] != "ready":
        message = json.loads(ws.recv())
        if message.get("id") == video_id:
            states.append(message["state"])
    ws.send(json.dumps({"unsubscribe": "all"}))
    ws.close()


def test_per_client_cap_idle_timeout_and_held_connections(tmp_path, lavfi_clip):
    with side_system(
        tmp_path, database=4, streams_per_client="3", idle_timeout="3", stream_keepalive="1"
    ) as side:
        video_id = upload(side.url, lavfi_clip).json()["id"]  # no worker here: it stays queued
        streams = [
            requests.get(f"{side.url}/api/events?video={video_id}", stream=True, timeout=10) for _ in range(3)
        ]
        assert all(s.status_code == 200 for s in streams)
        refused = requests.get(f"{side.url}/api/events", timeout=10)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_live_streams"
        try:
            ws_connect(side.url)
            raise AssertionError("a fourth live stream was let in")
        except websocket.WebSocketBadStatusException as exc:
            assert exc.status_code == 429
        # A made-up bearer value is no one: it is refused, and buys no second share of streams.
        made_up = requests.get(
            f"{side.url}/api/events", headers={"Authorization": "Bearer someone"}, timeout=10
        )
        assert made_up.status_code == 401
        for stream in streams:
            stream.close()
        wait_for(
            lambda: requests.get(f"{side.url}/api/events", stream=True, timeout=10).status_code == 200,
            20,
            "a closed stream's place freed",
        )

        # The same for WebSockets: a client that closes its socket frees its place at once.
        def three_sockets_fit() -> bool:
            opened = []
            try:
                for _ in range(3):
                    opened.append(ws_connect(side.url))
                return True
            except websocket.WebSocketBadStatusException:
                return False
            finally:
                for ws in opened:
                    ws.close()

        for _ in range(3):  # each round's three are closed before the next opens
            wait_for(three_sockets_fit, 20, "closed WebSockets' places freed")

        # While they are open, WebSockets hold their places: with three open, a fourth live
        # stream of either kind is refused. (A socket is counted a moment after its handshake,
        # so a fourth that came in that moment is let in, and closed here.)
        def three_open() -> list | None:
            opened = []
            try:
                for _ in range(3):
                    opened.append(ws_connect(side.url))
                return opened
            except websocket.WebSocketBadStatusException:
                for ws in opened:
                    ws.close()
                return None

        def one_more_refused() -> bool:
            try:
                ws_connect(side.url).close()
                return False
            except websocket.WebSocketBadStatusException as exc:
                return exc.status_code == 429

        sockets = wait_for(three_open, 20, "three WebSockets open")
        try:
            wait_for(one_more_refused, 10, "a fourth WebSocket refused while three are open")
            with requests.get(f"{side.url}/api/events", stream=True, timeout=10) as past_cap:
                assert past_cap.status_code == 429
        finally:
            for ws in sockets:
                ws.close()

        # 300 connections that send half their headers, or nothing at all.
        host, port = side.url.removeprefix("http://").split(":")
        held = []
        for n in range(300):
            conn = socket.create_connection((host, int(port)), timeout=10)
            if n % 2:
                conn.sendall(b"GET /api/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            held.append(conn)
        took = []
        for _ in range(20):
            began = time.monotonic()
            assert requests.get(f"{side.url}/api/videos?limit=1", timeout=5).ok
            took.append(time.monotonic() - began)
        assert max(took) < 1.0, took
        # Quiet past TRANSCODER_IDLE_TIMEOUT (3 s here): the server closes every one, and
        # sends nothing on them first.
        closed: set[int] = set()

        def all_closed() -> bool:
            for n, conn in enumerate(held):
                if n not in closed and ended(conn):
                    closed.add(n)
            return len(closed) == len(held)

        wait_for(all_closed, 15, "every held connection closed by the server")
        for conn in held:
            conn.close()


def ended(conn: socket.socket) -> bool:
    """Whether the server has closed ``conn`` (without a byte sent on it), asked without waiting."""
    conn.setblocking(False)
    try:
        sent = conn.recv(1)
        assert sent == b"", f"the server answered a connection that sent no request: {sent!r}"
        return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_a_change_published_while_the_hubs_subscription_is_down_reaches_its_followers(tmp_path):
    """Pub/sub drops what is published while nobody is subscribed. Once the subscription is
    made again (by redis-py inside a read, or by the hub itself), the hub re-reads what its
    followers follow. Its periodic re-read is an hour here, so only that can bring the change."""
    url = REDIS_URL.rsplit("/", 1)[0] + "/8"
    where = parse_url(url)
    with side_services(url, tmp_path) as services:
        video_id = "e" * 32
        services.videos.create(video_record(video_id, SMALL_MEDIA))
        relay = Relay((where.get("host", "127.0.0.1"), where.get("port", 6379)), bind="127.0.0.1")
        through_relay = redis.Redis(host="127.0.0.1", port=relay.port, db=where.get("db", 0))
        hub = Hub(through_relay, services.videos, json.dumps, resync_s=3600)
        try:
            follower, _ = hub.follow([video_id])
            assert [s.seq for s in follower.take(5)] == [1]
            wait_for(lambda: hub.connected, 10, "the hub subscribed")
            relay.down()  # the subscription is cut, and cannot be made again until the relay is up
            changed, _ = services.videos.update(
                video_id, lambda v: transitions.start_part(v, "v00", "w1@host", 2.0)
            )
            relay.up()
            news = wait_for(lambda: follower.take(0.5), 15, "the change made while nobody was subscribed")
            assert [s.seq for s in news] == [changed["seq"]]
        finally:
            hub.stop()
            relay.down()


def test_the_hub_holds_a_few_redis_connections_however_many_streams(system, lavfi_clip):
    video_id = upload(system, lavfi_clip).json()["id"]
    streams = [
        requests.get(f"{system}/api/events?video={video_id}", stream=True, timeout=30) for _ in range(15)
    ]
    sockets = [ws_connect(system) for _ in range(15)]
    try:
        for ws in sockets:
            ws.send(json.dumps({"subscribe": [video_id]}))
        # Each web process's hub is named for its process; two web processes use this database.
        client = redis.Redis.from_url(REDIS_URL)
        hubs: dict[str, list[dict]] = {}
        for c in client.client_list():
            if c.get("name", "").startswith("transcoder-hub-"):
                hubs.setdefault(c["name"], []).append(c)
        assert hubs and all(len(conns) <= 3 for conns in hubs.values()), hubs
        assert all(len([c for c in conns if int(c.get("psub", 0)) > 0]) <= 1 for conns in hubs.values())
        # Every socket is read at once until the video is ready: one left unread while the
        # others are would not answer the server's pings, and be closed (1008) on a slow day.
        last: dict[int, str] = {}

        def follow(index: int, ws) -> None:
            while last.get(index) != "ready":
                last[index] = json.loads(ws.recv())["state"]

        readers = [threading.Thread(target=follow, args=(i, ws), daemon=True) for i, ws in enumerate(sockets)]
        for reader in readers:
            reader.start()
        wait_terminal(system, video_id)
        wait_for(lambda: not any(r.is_alive() for r in readers), 60, "every socket's ready")
        assert set(last.values()) == {"ready"} and len(last) == len(sockets), last
    finally:
        for s in streams:
            s.close()
        for ws in sockets:
            ws.close()
