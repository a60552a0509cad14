"""Every parser of client input, fed a thousand hostile values by Hypothesis (`make fuzz`:
twenty thousand): ids,
cursors, Last-Event-ID, HLS and file names, byte ranges, query strings, form fields and
WebSocket messages; the headers every request is judged by (Authorization, X-CSRF-Token,
Cookie, Origin, Referer, Range) on public and private routes, by a key, a signed-in
browser and a stranger; the sign-in form; every JSON body; names that fit a route's
pattern but name nothing. None may answer 500, none may leave a stream counted open, and
no answer may show the storage folder or a traceback.

The app is the real one (``create_app``) on a Redis database and an SQLite catalog of
this test's own, called through Flask's test client so that thousands of requests take
seconds; one real video is in it, so paths reach past the id check.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.processes import Processes, environment, start_worker, wait_for
from tests.support.system import REDIS_URL, side_services
from transcoder.records import redis_keys
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
#: A key of TRANSCODER_API_KEYS (compared with what a bearer sends), and the fuzzer's password.
ENV_KEY = "a-key-from-the-fuzzer's-environment"
PASSWORD = "a password of the fuzzer's"
#: What no answer may show: the storage folder (filled in by the fixture), a traceback.
LEAKS = ["Traceback"]


@pytest.fixture(scope="module")
def app(tmp_path_factory, lavfi_clip):
    folder = tmp_path_factory.mktemp("fuzz")
    url = REDIS_URL.rsplit("/", 1)[0] + "/5"
    processes = Processes(tmp_path_factory.mktemp("fuzz-logs"))
    with side_services(url, folder, api_keys=ENV_KEY) as services:
        LEAKS[1:] = [str(folder), str(folder.resolve())]
        try:
            start_worker(processes, environment(url, folder), "fuzz", "--without-gossip", "--without-mingle")
            app = create_app(services.settings)
            app.config["TESTING"] = False  # errors answered as in production, not raised
            uploader = services.users.add("fuzzer", PASSWORD)
            app.key = services.keys.create(uploader, "fuzz")[1]
            client = client_of(app)
            with open(lavfi_clip, "rb") as fh:
                created = client.post("/api/videos", data={"file": (fh, "clip.mp4")})
            assert created.status_code == 201, created.data
            app.video_id = created.get_json()["id"]
            state = lambda: client.get(f"/api/videos/{app.video_id}").get_json()["state"]  # noqa: E731
            wait_for(lambda: state() == "ready", 120, "the video ready")
            # A signed-in browser: its cookie and the CSRF token its pages carry.
            browser = app.test_client()
            signed = browser.post("/signin", data={"name": "fuzzer", "password": PASSWORD})
            assert signed.status_code == 302, signed.data
            app.cookie = browser.get_cookie("transcoder_session").value
            page = browser.get("/").get_data(as_text=True)
            app.csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)[1]
            app.services = services
            # A resumable upload to PATCH (long: no fuzzed PATCH of a byte can finish it).
            tus = {"Tus-Resumable": "1.0.0", "Upload-Length": str(10**8)}
            made = client.post("/api/uploads/", headers=tus)
            assert made.status_code == 201, made.data
            app.upload_id = made.headers["Location"].rsplit("/", 1)[1]
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
    """No 5xx; and no error that shows the storage folder or a traceback (a success's body
    is a stream or a file: not read here)."""
    if response.status_code >= 500:
        raise AssertionError(f"{response.status_code}: {response.get_data(as_text=True)[:300]}")
    if response.status_code >= 400:
        body = response.get_data(as_text=True)
        shown = [leak for leak in LEAKS if leak in body]
        assert not shown, f"{response.status_code} shows {shown}: {body[:300]}"
    return True


def streams_open(app) -> int:
    return sum(app.extensions["stream_cap"].by_kind.values())


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
    from web.live import streams, ws

    with app.app_context():
        follower, _ = streams.hub().register([])
        try:
            answer = ws.apply_message(follower, message)
        finally:
            streams.hub().close(follower)
    assert answer is None or set(answer) >= {"code", "message"}


# -- Headers, the sign-in form, JSON bodies, names that name nothing ----------------------


def forget_sign_ins(app) -> None:
    """Forget the sign-in throttle's counts: each attempt here is a new stranger's, so
    the fuzz tries parsers, not the throttle's waits."""
    client = app.services.redis
    for key in client.scan_iter(match=redis_keys.sign_in_failures_key("*", "*") + "*"):
        client.delete(key)


def as_who(app, who: str, headers: dict[str, str]):
    """A client and the headers it sends: with the uploader's key, a key of
    TRANSCODER_API_KEYS, a signed-in browser (cookie and CSRF token), or as a stranger;
    ``headers`` override each of its own (a hostile Cookie follows the browser's). The
    client keeps no cookie jar: it would replace the Cookie header."""
    client = app.test_client(use_cookies=False)
    sent = {}
    if who == "key":
        sent["Authorization"] = f"Bearer {app.key}"
    elif who == "env key":
        sent["Authorization"] = f"Bearer {ENV_KEY}"
    elif who == "browser":
        sent["X-CSRF-Token"] = app.csrf
        sent["Cookie"] = f"transcoder_session={app.cookie}"
        if "Cookie" in headers:
            headers = {**headers, "Cookie": f"{sent['Cookie']}; {headers['Cookie']}"}
    return client, {**sent, **headers}


def is_local(location: str) -> bool:
    """A Location a browser reads as a path of this server (web.auth.redirects judges the same)."""
    from web.auth.redirects import browser_reads

    return browser_reads(location) == location and location.startswith("/") and not location.startswith("//")


WHO = st.sampled_from(["key", "env key", "browser", "stranger"])
HEADER_NAMES = ["Authorization", "X-CSRF-Token", "Cookie", "Origin", "Referer", "Range"]
#: Header values: any text (as its UTF-8 bytes read as Latin-1, the way a header arrives),
#: and text after the prefixes each header's parser looks for.
PREFIXES = ["Bearer ", "bearer ", "Bearer tk_", "Basic ", "transcoder_session=", "http://localhost",
            "http://localhost:80", "https://", "null", "bytes="]  # fmt: skip
HEADER_VALUES = st.one_of(
    TEXT, st.builds(lambda prefix, text: prefix + text, st.sampled_from(PREFIXES), TEXT)
)
#: (method, path) of routes public and private; {video} is the fuzzer's video. Each POST
#: carries a body its route refuses, so the fuzz creates nothing.
HEADER_ROUTES = [
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/signin"),
    ("POST", "/signin"),
    ("GET", "/"),
    ("GET", "/api/me"),
    ("GET", "/api/uploads/"),
    ("GET", "/api/videos"),
    ("GET", "/api/videos/{video}"),
    ("GET", "/api/videos/{video}/renditions/144p.mp4"),
    ("GET", "/api/videos/{video}/hls/144p/v00/init.mp4"),
    ("POST", "/api/keys"),
    ("DELETE", "/api/keys/0123456789abcdef"),
    ("POST", "/account/keys"),
]


@CASES
@given(
    who=WHO,
    headers=st.dictionaries(st.sampled_from(HEADER_NAMES), HEADER_VALUES.map(header), min_size=1, max_size=3),
    route=st.sampled_from(HEADER_ROUTES),
)
def test_headers(app, who, headers, route):
    method, path = route
    client, sent = as_who(app, who, headers)
    body = {"json": {"name": ""}} if path == "/api/keys" else {"data": {"name": "", "password": ""}}
    response = client.open(path.format(video=app.video_id), method=method, headers=sent, buffered=False,
                           **(body if method == "POST" else {}))  # fmt: skip
    if path == "/signin":
        forget_sign_ins(app)
    ok(response)
    response.close()
    if path == "/healthz":
        assert response.status_code == 200  # a probe is answered whatever it sends


#: One example in ten signs in with the right password or tries a hostile one (argon2 costs
#: a fifth of a second each); the rest stop before any hashing.
PASSWORDS = st.integers(0, 9).flatmap(
    lambda n: st.just(PASSWORD) if n == 0 else TEXT if n == 1 else st.just("")
)
EVIL_NEXTS = ["/", "//evil.example", "/\\evil.example", "\\\\evil.example", "/%2f/evil.example",
              "https://evil.example", "/videos"]  # fmt: skip
NEXTS = st.one_of(
    TEXT,
    near(EVIL_NEXTS),
    st.builds(
        lambda a, b: f"/{a}/{b}evil.example",
        st.sampled_from(["\t", "\n", "\r", "\\", "%09", "%5c", ""]),
        st.sampled_from(["", "/", "\\", "\t"]),
    ),
)


#: Each sign-in checks a password (argon2, a fifth of a second of CPU), so a fortieth as many.
@settings(max_examples=max(EXAMPLES // 40, 1), deadline=None, suppress_health_check=list(HealthCheck),
          database=None)  # fmt: skip
@given(
    name=st.one_of(st.just("fuzzer"), TEXT),
    password=PASSWORDS,
    next_=NEXTS,
    csrf=TEXT,
    in_query=st.booleans(),
)
def test_sign_in_form(app, name, password, next_, csrf, in_query):
    client = app.test_client()
    form = {"name": name, "password": password, "csrf_token": csrf}
    query = {"next": next_} if in_query else {}
    if not in_query:
        form["next"] = next_
    page = client.get("/signin", query_string={"next": next_})
    assert ok(page) and page.status_code == 200
    response = client.post("/signin", data=form, query_string=query)
    forget_sign_ins(app)
    ok(response)
    if response.status_code == 302:
        assert is_local(response.headers["Location"]), response.headers["Location"]
        assert client.get("/api/me").status_code == 200  # a whole session, never half of one


ODD_JSON = ["1e999999", "-1e999999", "NaN", "Infinity", '{"name": 1e999999}', '{"name": -Infinity}',
            "9" * 5000, '{"name": ' + "9" * 5000 + "}", '{"name": "x"', "", "null", "[]", '""']  # fmt: skip
SURROGATES = st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=4)
#: JSON bodies as an attacker writes them: nested past any parser's stack, lone
#: surrogates (valid JSON, no valid text), numbers past a float or past int's digit limit,
#: runs of minus signs, and anything else.
JSON_BODIES = st.one_of(
    st.integers(1, 30_000).map(lambda n: '{"name": ' + "[" * n + "]" * n + "}"),
    st.integers(1, 30_000).map(lambda n: "[" * n),
    st.integers(1, 12_000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    SURROGATES.map(lambda t: json.dumps({"name": "key" + t})),
    SURROGATES.map(lambda t: json.dumps({t: 1})),
    st.sampled_from(ODD_JSON),
    st.integers(1, 5000).map(lambda n: "-" * n),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
        max_leaves=20,
    ).map(lambda value: json.dumps({"name": value})),
    st.binary(max_size=64),
)
#: Every route that reads a JSON body.
JSON_ROUTES = ["/api/keys"]


@CASES
@given(
    body=JSON_BODIES,
    route=st.sampled_from(JSON_ROUTES),
    who=st.sampled_from(["browser", "key"]),
    content_type=st.sampled_from(["application/json", "application/json", "text/plain", "text/json"]),
)
def test_json_bodies(app, body, route, who, content_type):
    client, sent = as_who(app, who, {"Content-Type": content_type})
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    response = client.post(route, data=data, headers=sent)
    assert ok(response)
    if response.status_code == 400:
        assert response.get_json()["error"]["code"] in ("bad_request", "bad_name")


#: Names each media route's pattern takes, of files that are not there.
ABSENT_NAMES = ["/hls/1080p/v00/init.mp4", "/hls/a64/a00/init.mp4", "/hls/a64/a00/seg_000.m4s",
                "/hls/1080p/index.m3u8", "/hls/144p/v00/index.m3u8", "/renditions/1080p.mp4",
                "/renditions/all.mp4", "/renditions/source.mp4", "/poster.jpg", "/storyboard.jpg",
                "/storyboard.vtt"]  # fmt: skip
ABSENT = st.one_of(
    st.integers(1, 999_999).map(lambda n: f"/hls/144p/v00/seg_{n:03d}.m4s"),
    st.integers(0, 9999).map(lambda n: f"/hls/144p/v{n:02d}/init.mp4"),
    st.sampled_from(ABSENT_NAMES),
)


#: A narrow space (a few shapes of name): a fifth as many examples find what it holds.
@settings(max_examples=max(EXAMPLES // 5, 1), deadline=None, suppress_health_check=list(HealthCheck),
          database=None)  # fmt: skip
@given(path=ABSENT, who=st.sampled_from(["key", "browser"]))
def test_names_that_fit_a_pattern_and_name_nothing(app, path, who):
    client, sent = as_who(app, who, {})
    response = client.get(f"/api/videos/{app.video_id}{path}", headers=sent, buffered=False)
    ok(response)
    response.close()
    assert response.status_code in (200, 404), (path, response.status_code)  # some of them are there
    if response.status_code == 404:
        assert response.get_json()["error"]["code"] == "not_found"


# -- The inputs the attack found answering 500, and where `next` sends a browser -------------


def test_the_inputs_that_answered_500(app):
    """Each of issue 30's five, as it was sent."""
    stranger = app.test_client()
    bearer = {"Authorization": header("Bearer clé-ключ")}
    for path in ("/healthz", "/readyz", "/signin", "/api/videos", "/api/me", "/videos"):
        assert ok(stranger.get(path, headers=bearer)), path
    assert stranger.get("/healthz", headers=bearer).status_code == 200
    assert stranger.get("/api/videos", headers=bearer).status_code == 401
    client, sent = as_who(app, "browser", {"X-CSRF-Token": header("jeton-é")})
    refused = client.post("/api/keys", json={"name": "x"}, headers=sent)
    assert ok(refused) and refused.status_code == 403
    sent = {"Cookie": f"transcoder_session={app.cookie}"}
    refused = client.post("/account/keys", data={"csrf_token": "jeton-é", "name": "x"}, headers=sent)
    assert ok(refused) and refused.status_code == 403
    client, sent = as_who(app, "browser", {"Content-Type": "application/json"})
    for body in ('{"name": "\\ud800"}', "[" * 20_000 + "]" * 20_000, '{"name": 1e999999}', "-" * 1000):
        refused = client.post("/api/keys", data=body, headers=sent)
        assert ok(refused) and refused.status_code == 400, body[:20]
        assert refused.get_json()["error"]["code"] == "bad_request"
    client, sent = as_who(app, "key", {})
    missing = client.get(f"/api/videos/{app.video_id}/hls/144p/v00/seg_999999.m4s", headers=sent)
    assert ok(missing) and missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    assert "videos/" not in missing.get_data(as_text=True)  # nor a storage key


#: `next` as sent, and where a browser must be sent after signing in.
NEXT_TABLE = [
    ("/\t/evil.example", "/"),
    ("/\n/evil.example", "/"),
    ("/\\evil.example", "/"),
    ("\\\\evil.example", "/"),
    (" //evil.example", "/"),
    ("/%5cevil.example", "/"),
    ("https://evil.example/", "/"),
    ("/videos\n", "/videos"),
    ("/videos?state=ready", "/videos?state=ready"),
]


def test_next_after_signing_in_stays_on_this_server(app):
    """Through the app, with the right password: the Location is a path of this server,
    judged as a browser reads it, and the session it made works (a newline once answered
    500 after the session was made)."""
    for sent, location in NEXT_TABLE:
        client = app.test_client()
        reply = client.post("/signin", data={"name": "fuzzer", "password": PASSWORD, "next": sent})
        assert reply.status_code == 302, (sent, reply.status_code)
        assert reply.headers["Location"] == location, sent
        assert client.get("/api/me").status_code == 200, sent


#: tus's headers (web.uploads): any text, and text after what each parser looks for.
TUS_PREFIXES = ["sha1 ", "sha256 ", "md5 ", "filename ", "filename YQ==,", "0", "1", "-", "1.0.0"]
TUS_VALUES = st.one_of(
    TEXT,
    st.builds(lambda prefix, text: prefix + text, st.sampled_from(TUS_PREFIXES), TEXT),
    st.builds(lambda data: "sha256 " + base64.b64encode(data).decode(), st.binary(max_size=40)),
    st.builds(lambda data: "filename " + base64.b64encode(data).decode(), st.binary(max_size=40)),
    st.integers(-5, 10**21).map(str),
)
TUS_NAMES = ["Upload-Metadata", "Upload-Offset", "Upload-Checksum", "Upload-Length", "Tus-Resumable",
             "Upload-Defer-Length", "Content-Type"]  # fmt: skip


@CASES
@given(
    who=st.sampled_from(["key", "browser"]),
    headers=st.dictionaries(st.sampled_from(TUS_NAMES), TUS_VALUES.map(header), min_size=1, max_size=4),
    method=st.sampled_from(["POST", "PATCH", "HEAD", "GET", "OPTIONS"]),
)
def test_tus_headers(app, who, headers, method):
    """Malformed tus headers are 400 (or the protocol's own 409, 412, 415...), never a 5xx. A
    POST's body is JSON, which creation refuses (415) once the headers are read: nothing is
    created."""
    client, sent = as_who(app, who, {"Tus-Resumable": "1.0.0", **headers})
    path = "/api/uploads/" if method in ("POST", "OPTIONS") else f"/api/uploads/{app.upload_id}"
    if method == "POST":
        sent["Content-Type"] = "application/json"
    response = client.open(
        path, method=method, headers=sent, data=b"x" if method in ("POST", "PATCH") else None
    )
    ok(response)
    assert response.status_code != 201, "a fuzzed creation made an upload"
    assert response.headers.get("Tus-Resumable") == "1.0.0"


#: Malformed values of each tus header: 400 ``bad_tus_header``, whatever else is right.
TUS_MALFORMED = [
    ("Upload-Offset", v) for v in ["-1", "+0", "0x0", "1e2", "1_0", "", "٠", "9" * 25]
] + [
    ("Upload-Checksum", v)
    for v in ["md5 AAAA", "sha256", "sha256 !!", "sha1 " + "A" * 8, "sha256 ==", "sha256  x"]
] + [
    ("Upload-Metadata", v) for v in ["filename !!", "filename YQ", "a YQ==,a YQ==", "a b c", ",", "é YQ=="]
]  # fmt: skip


def test_each_malformed_tus_header_is_a_400(app):
    client = client_of(app)
    base = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
    for name, value in TUS_MALFORMED:
        if name == "Upload-Metadata":
            reply = client.post("/api/uploads/", headers={**base, "Upload-Length": "10", name: value})
        else:
            offset = {} if name == "Upload-Offset" else {"Upload-Offset": "0"}
            reply = client.patch(f"/api/uploads/{app.upload_id}", headers={**base, **offset, name: value},
                                 data=b"")  # fmt: skip
        assert reply.status_code == 400, (name, value, reply.status_code, reply.data[:200])
        assert reply.get_json()["error"]["code"] == "bad_tus_header", (name, value)
    for length in ["-1", "1.5", "ten", "", "0x10"]:
        reply = client.post("/api/uploads/", headers={"Tus-Resumable": "1.0.0", "Upload-Length": length})
        assert reply.status_code == 400, (length, reply.status_code)
