"""Every parser of client input, fed a thousand hostile values by Hypothesis (`make fuzz`:
twenty thousand): ids,
cursors, Last-Event-ID, HLS and file names, byte ranges, query strings, form fields and
WebSocket messages. None may answer 500, and none may leave a stream counted open.

The app is the real one (``create_app``) on a Redis database and an SQLite catalog of
this test's own, called through Flask's test client so that thousands of requests take
seconds; one real video is in it, so paths reach past the id check.
"""

from __future__ import annotations

import base64
import io
import json
import os
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.processes import Processes, environment, start_worker, wait_for
from tests.system import REDIS_URL, side_services
from web import create_app

pytestmark = pytest.mark.integration

#: Hostile values per parser: 1,000 in `make test`, 20,000 in `make fuzz`; a tenth as many
#: multipart forms, each of which costs more.
EXAMPLES = int(os.environ.get("TRANSCODER_FUZZ_EXAMPLES", "1000"))
CASES = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)

#: Text as clients send it: any character, the ones parsers choke on most often.
TEXT = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="0123456789abcdef:-_=./%\n\x00١٢", max_size=80),
    st.from_regex(r"\A[0-9a-f]{32}\Z"),
)
#: Names a parser knows, with a little changed: what slips past a check that is almost right.
KNOWN = ["init.mp4", "index.m3u8", "seg_000.m4s", "v00", "a00", "144p", "all", "bytes=0-1", "f" * 32]


def near(known: list[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda name, before, after: before + name + after,
        st.sampled_from(known),
        st.sampled_from(["", "", "\n", " ", "../", "٠"]),
        st.sampled_from(["", "\n", "\x00", "/", "١", ":9", ".", "%"]),
    )


NEAR = near(KNOWN)
#: Cursors shaped like ours (base64 of JSON) around values we would never make.
CURSORS = st.builds(
    lambda value: base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("="),
    st.one_of(
        st.lists(st.one_of(st.integers(), st.floats(), st.text(max_size=5), st.none()), max_size=3),
        st.tuples(st.integers(min_value=-(10**400), max_value=10**400), st.text(max_size=40)),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
)
TEXT = st.one_of(TEXT, NEAR)


@pytest.fixture(scope="module")
def app(tmp_path_factory, lavfi_clip):
    folder = tmp_path_factory.mktemp("fuzz")
    url = REDIS_URL.rsplit("/", 1)[0] + "/5"
    processes = Processes(tmp_path_factory.mktemp("fuzz-logs"))
    with side_services(url, folder) as services:
        try:
            start_worker(processes, environment(url, folder), "fuzz", "--without-gossip", "--without-mingle")
            app = create_app(services.settings)
            app.config["TESTING"] = False  # errors answered as in production, not raised
            uploader = services.users.add("fuzzer", "a password of the fuzzer's")
            app.key = services.keys.create(uploader, "fuzz")[1]
            client = client_of(app)
            with open(lavfi_clip, "rb") as fh:
                created = client.post("/api/videos", data={"file": (fh, "clip.mp4")})
            assert created.status_code == 201, created.data
            app.video_id = created.get_json()["id"]
            state = lambda: client.get(f"/api/videos/{app.video_id}").get_json()["state"]  # noqa: E731
            wait_for(lambda: state() == "ready", 120, "the video ready")
            yield app
        finally:
            processes.stop_all()


def client_of(app):
    """A client that sends an uploader's API key with every request."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {app.key}"
    return client


def header(text: str) -> str:
    """A header value as it can travel: no line breaks, its bytes read as Latin-1."""
    return text.replace("\r", "").replace("\n", "").encode("utf-8", "replace").decode("latin-1")


def ok(response) -> bool:
    if response.status_code >= 500:
        raise AssertionError(f"{response.status_code}: {response.get_data(as_text=True)[:300]}")
    return True


def streams_open(app) -> int:
    return sum(app.extensions["gate"].by_kind.values())


@CASES
@given(
    state=TEXT,
    q=TEXT,
    cursor=st.one_of(TEXT, CURSORS),
    limit=TEXT,
    where=st.sampled_from(["/api/videos", "/videos"]),
)
def test_library_query_strings(app, state, q, cursor, limit, where):
    args = {"state": state, "q": q, "cursor": cursor, "limit": limit}
    assert ok(client_of(app).get(where, query_string=args))


@CASES
@given(
    video_id=TEXT, tail=st.sampled_from(["", "/parts", "/events", "/poster.jpg", "/hls/master.m3u8", "page"])
)
def test_video_ids(app, video_id, tail):
    quoted = quote(video_id, safe="")
    where = f"/videos/{quoted}" if tail == "page" else f"/api/videos/{quoted}{tail}"
    response = client_of(app).get(where, buffered=False)
    ok(response)
    response.close()


def get(app, path: str, **kwargs) -> bool:
    return ok(client_of(app).get(f"/api/videos/{app.video_id}{path}", **kwargs))


# Each part of a media path is tried with the others valid, so every check is reached.
@CASES
@given(filename=st.one_of(near(["init.mp4", "index.m3u8", "seg_000.m4s"]), TEXT))
def test_hls_file_names(app, filename):
    assert get(app, f"/hls/144p/v00/{quote(filename, safe='')}")


@CASES
@given(
    name=st.one_of(near(["144p", "a64"]), TEXT),
    part=st.one_of(near(["v00", "a64"]), TEXT),
    shape=st.sampled_from(
        ["/hls/{name}/{part}/init.mp4", "/hls/{name}/index.m3u8", "/renditions/{name}.mp4?download={part}"]
    ),
)
def test_hls_folder_and_rendition_names(app, name, part, shape):
    assert get(app, shape.format(name=quote(name, safe=""), part=quote(part, safe="")))


@CASES
@given(
    byte_range=st.one_of(near(["bytes=0-1", "bytes=-5", "bytes=3-", "bytes=0-1,3-4"]), TEXT),
    path=st.sampled_from(["/renditions/144p.mp4", "/hls/144p/v00/init.mp4"]),
)
def test_byte_ranges(app, byte_range, path):
    assert get(app, path, headers={"Range": header(byte_range)})


@CASES
@given(last_event_id=TEXT, videos=st.lists(TEXT, max_size=4))
def test_event_streams(app, last_event_id, videos):
    client = client_of(app)
    before = streams_open(app)
    headers = {"Last-Event-ID": header(last_event_id)}
    query = "&".join(f"video={quote(v, safe='')}" for v in videos)
    response = client.get(f"/api/events?{query}", headers=headers, buffered=False)
    ok(response)
    response.close()
    assert streams_open(app) == before


@settings(max_examples=max(EXAMPLES // 10, 1), deadline=None, suppress_health_check=list(HealthCheck),
          database=None)  # fmt: skip
@given(field=TEXT, filename=TEXT, body=st.binary(max_size=64))
def test_upload_form_fields(app, field, filename, body):
    client = client_of(app)
    response = client.post("/api/videos", data={field or "x": (io.BytesIO(body), filename)})
    assert ok(response) and response.status_code != 201


MESSAGES = st.one_of(
    TEXT,
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
        max_leaves=20,
    ).map(json.dumps),
    st.fixed_dictionaries(
        {"subscribe": st.one_of(st.just("all"), st.lists(TEXT, max_size=4), TEXT, st.integers())}
    ).map(json.dumps),
    st.binary(max_size=64),
)


@CASES
@given(message=MESSAGES)
def test_websocket_messages(app, message):
    from web import live, live_socket

    with app.app_context():
        follower, _ = live.hub().register([])
        try:
            answer = live_socket.apply_message(follower, message)
        finally:
            live.hub().close(follower)
    assert answer is None or set(answer) >= {"code", "message"}
