"""Who may read /metrics: Prometheus with its token from anywhere, or a tool on this machine
under a host name the server answers to; nobody else, and no header answers 500."""

import pytest

from web.ops import may_scrape

NAMES = ("localhost", "127.0.0.1", "::1")
TOKEN = "s3cret-metrics-token"


@pytest.mark.parametrize(
    "authorization,remote,host,answered",
    [
        # The token, from anywhere, under any name (Prometheus sends the pod's address).
        (f"Bearer {TOKEN}", "203.0.113.9", "10.1.2.3:8000", True),
        (f"bearer {TOKEN}", "2001:db8::1", "web:8000", True),
        # A tool on this machine, under an allowed name.
        ("", "127.0.0.1", "127.0.0.1:8000", True),
        ("", "127.0.0.2", "localhost:8000", True),
        ("", "::1", "[::1]:8000", True),
        ("", "::ffff:127.0.0.1", "localhost", True),
        # A stranger, whatever it sends.
        ("", "203.0.113.9", "127.0.0.1:8000", False),
        ("Bearer wrong", "203.0.113.9", "127.0.0.1:8000", False),
        (f"Bearer {TOKEN}x", "203.0.113.9", "127.0.0.1:8000", False),
        (f"Basic {TOKEN}", "203.0.113.9", "127.0.0.1:8000", False),
        ("Bearer ", "203.0.113.9", "127.0.0.1:8000", False),
        ("Bearer \xff\xfe\u00e9", "203.0.113.9", "127.0.0.1:8000", False),
        ("Bearer \u2603", "203.0.113.9", "127.0.0.1:8000", False),
        ("", "::ffff:203.0.113.9", "localhost", False),
        # A DNS-rebinding page in a browser on this machine names another host.
        ("", "127.0.0.1", "rebind.evil:8000", False),
        ("", "127.0.0.1", "", False),
        # A Unix socket's peer has no address: not loopback as far as we can tell.
        ("", None, "localhost", False),
        ("", "", "localhost", False),
    ],
)  # fmt: skip
def test_who_may_scrape(authorization, remote, host, answered):
    assert may_scrape(authorization, TOKEN, remote, host, NAMES) is answered


def test_without_a_token_set_no_bearer_value_opens_it():
    for sent in ("Bearer ", "Bearer", "Bearer  ", "bearer x"):
        assert may_scrape(sent, "", "203.0.113.9", "localhost", NAMES) is False
    assert may_scrape("", "", "127.0.0.1", "localhost", NAMES) is True


def test_a_non_ascii_token_is_compared_as_the_bytes_sent():
    token = "jeton-\u00e9t\u00e9"
    # What gunicorn hands over: the header's bytes, read as latin-1.
    sent = token.encode("utf-8").decode("latin-1")
    assert may_scrape(f"Bearer {sent}", token, "203.0.113.9", "x", NAMES) is True
    assert may_scrape(f"Bearer {token}", token, "203.0.113.9", "x", NAMES) is False
