"""Which host names are served."""

import pytest

from transcoder.settings import Settings
from web.middleware.hosts import host_allowed

NAMES = ("localhost", "127.0.0.1", "::1", ".example.com")


@pytest.mark.parametrize(
    "host,allowed",
    [
        ("localhost", True), ("localhost:8000", True), ("127.0.0.1:8000", True), ("[::1]:8000", True),
        ("example.com", True), ("video.example.com:443", True), ("LOCALHOST", True), ("localhost.", True),
        ("rebind.evil", False), ("example.com.evil", False), ("evilexample.com", False), ("", False),
        ("[::1", False), ("127.0.0.1@evil", False), ("localhost:8000/x", False),
    ],
)  # fmt: skip
def test_host_names(host, allowed):
    assert host_allowed(host, NAMES) is allowed


def test_any_host_only_when_asked_for():
    assert host_allowed("anything.at.all", ("*",))


def test_the_default_names_are_the_loopback_ones_and_a_bound_address():
    assert Settings().host_names == ("localhost", "127.0.0.1", "::1")
    assert Settings(host="0.0.0.0").host_names == ("localhost", "127.0.0.1", "::1")
    assert Settings(host="10.0.0.5").host_names[-1] == "10.0.0.5"
    assert Settings(allowed_hosts="Video.Example.com, [::1]").host_names == ("video.example.com", "::1")
