"""The door's weaknesses, tried as an attacker would on a server of their own (real gunicorn
with gevent), behind one trusted proxy (TRANSCODER_TRUSTED_PROXIES=1) and with sign-in off:
/metrics from a remote client, the scheme of a forwarded request and of an Origin, and the
per-client stream cap counting client addresses when every request is the local admin."""

from __future__ import annotations

import http.client

import pytest
import requests

from tests.support.system import side_system

TOKEN = "prometheus-reads-this"
CAP = 3
#: A client on the internet, as the proxy in front names it.
REMOTE = "203.0.113.9"


@pytest.fixture(scope="module")
def proxied(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("weak")
    with side_system(
        root, database=9, trusted_proxies="1", metrics_token=TOKEN, streams_per_client=str(CAP)
    ) as side:
        yield side.url


def test_metrics_answer_only_the_token_or_loopback(proxied):
    host = proxied.removeprefix("http://")
    # A client the proxy forwards, without the token: nothing of the figures.
    refused = requests.get(f"{proxied}/metrics", headers={"X-Forwarded-For": REMOTE}, timeout=10)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert "transcoder_upload_bytes_total" not in refused.text
    assert "TRANSCODER_METRICS_TOKEN" in refused.json()["error"]["message"]
    for wrong in (b"Bearer nope", b"Bearer " + TOKEN.encode() + b"x", b"Basic " + TOKEN.encode(),
                  b"Bearer \xff\xfe\xc3\xa9", "Bearer prometheus-reads-thisé".encode()):  # fmt: skip
        reply = requests.get(
            f"{proxied}/metrics", headers={"X-Forwarded-For": REMOTE, "Authorization": wrong}, timeout=10
        )
        assert reply.status_code == 401, (wrong, reply.status_code)
    # Prometheus, with the token, from anywhere and under the pod's address.
    for headers in ({"X-Forwarded-For": REMOTE}, {"Host": "10.1.2.3:8000"}, {}):
        reply = requests.get(
            f"{proxied}/metrics", headers={**headers, "Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        assert reply.status_code == 200 and "transcoder_upload_bytes_total" in reply.text, headers
    # A tool on this machine, under a name the server answers to.
    assert requests.get(f"{proxied}/metrics", headers={"Host": host}, timeout=10).status_code == 200
    # A DNS-rebinding page in a browser on this machine: loopback, but another name.
    rebound = requests.get(f"{proxied}/metrics", headers={"Host": "rebind.evil"}, timeout=10)
    assert rebound.status_code == 401


def test_a_forwarded_scheme_counts_only_from_a_trusted_proxy(proxied, base_url):
    """On the shared server (TRANSCODER_TRUSTED_PROXIES=0) X-Forwarded-Proto from 127.0.0.1
    is ignored: the page's cookie is not marked Secure (gunicorn's default trusted it);
    behind one trusted proxy it is."""
    forwarded = {"X-Forwarded-Proto": "https"}
    plain = requests.get(base_url + "/", headers=forwarded, timeout=10)
    assert plain.status_code == 200 and "Set-Cookie" in plain.headers
    assert "secure" not in plain.headers["Set-Cookie"].lower()
    behind = requests.get(proxied + "/", headers=forwarded, timeout=10)
    assert behind.status_code == 200 and "; secure" in behind.headers["Set-Cookie"].lower()


def test_an_origin_is_its_scheme_name_and_port(proxied, base_url):
    """``https://host:port`` is not a plain-HTTP server's origin, and ``http://`` is not the
    origin of a page the proxy served over HTTPS."""
    for url, scheme in ((base_url, "http"), (proxied, "http")):
        host = url.removeprefix("http://")
        refused = requests.post(f"{url}/api/videos", headers={"Origin": f"https://{host}"}, timeout=10)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        # The Referer, a post's fallback, is judged the same.
        refused = requests.post(f"{url}/api/videos", headers={"Referer": f"https://{host}/"}, timeout=10)
        assert refused.status_code == 403
        # The same origin gets past the door (and is told the file is missing).
        own = requests.post(f"{url}/api/videos", headers={"Origin": f"{scheme}://{host}"}, timeout=10)
        assert own.status_code == 400, own.text
    host = proxied.removeprefix("http://")
    secure = {"X-Forwarded-Proto": "https"}
    own = requests.post(f"{proxied}/api/videos", headers={**secure, "Origin": f"https://{host}"}, timeout=10)
    assert own.status_code == 400, own.text
    downgraded = requests.post(
        f"{proxied}/api/videos", headers={**secure, "Origin": f"http://{host}"}, timeout=10
    )
    assert downgraded.status_code == 403


def open_stream(url: str, source: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    """An event stream opened from the local address ``source`` (Linux routes 127/8 to lo)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    conn.request("GET", "/api/events", headers=headers or {})
    return conn.getresponse()


def test_with_sign_in_off_each_client_address_has_its_own_stream_cap(proxied):
    """TRANSCODER_AUTH=off makes every request the local admin; the cap still counts per
    client address (the measured attack: 30 addresses were served 20 streams in all)."""
    opened = []
    try:
        for source in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
            for _ in range(CAP):
                stream = open_stream(proxied, source)
                opened.append(stream)
                assert stream.status == 200, (source, stream.status)
            past = open_stream(proxied, source)
            opened.append(past)
            assert past.status == 429, source
        # Behind the trusted proxy, the client it names is the one counted.
        for n in range(2):
            stream = open_stream(proxied, "127.0.0.1", {"X-Forwarded-For": f"198.51.100.{n + 1}"})
            opened.append(stream)
            assert stream.status == 200
    finally:
        for stream in opened:
            stream.close()
