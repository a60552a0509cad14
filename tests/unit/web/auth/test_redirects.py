"""Where a browser goes after signing in: a table of `next` values, each with what the
`Location` header becomes. Anything a browser would read as another site (after dropping
tabs and newlines, reading `\\` as `/`, stripping control characters at the ends) goes to
`/`; a path of this server is kept, escaped where a header could not carry it."""

from __future__ import annotations

import pytest

from web.auth.redirects import browser_reads, local_target

TABLE = [
    # Paths of this server are kept.
    ("/", "/"),
    ("/videos", "/videos"),
    ("/videos?state=ready&q=cat", "/videos?state=ready&q=cat"),
    ("/videos?", "/videos"),
    ("/videos/0123abcd#top", "/videos/0123abcd#top"),
    ("/account/keys:x@y", "/account/keys:x@y"),
    ("/search?q=%2F%2Fx", "/search?q=%2F%2Fx"),
    # Nothing, or not a path: home.
    (None, "/"),
    ("", "/"),
    ("videos", "/"),
    ("https://evil.example/", "/"),
    ("javascript:alert(1)", "/"),
    ("/" + "a" * 3000, "/"),
    # Another site, plainly or by a browser's reading of it.
    ("//evil.example", "/"),
    ("///evil.example", "/"),
    ("\\\\evil.example", "/"),
    ("/\\evil.example", "/"),
    ("\\/evil.example", "/"),
    ("/\t/evil.example", "/"),
    ("/\n/evil.example", "/"),
    ("/\r\n/evil.example", "/"),
    ("\t//evil.example", "/"),
    (" //evil.example", "/"),
    ("\x00//evil.example", "/"),
    ("\x1f/\x0b/evil.example", "/x0b/evil.example".replace("x0b", "%0B")),
    ("/\t\\evil.example", "/"),
    # Decoded on the way by a proxy or a server: still not another site.
    ("/%2F/evil.example", "/"),
    ("/%2f%2fevil.example", "/"),
    ("/%5Cevil.example", "/"),
    ("/%09/evil.example", "/"),
    ("/%0a/evil.example", "/"),
    # Kept as a path, but sent as it was judged: no raw control character, space or
    # non-ASCII letter ever reaches the header.
    ("/videos\n", "/videos"),
    ("/vid\neos", "/videos"),
    ("/a b", "/a%20b"),
    ("/vidéo", "/vid%C3%A9o"),
    ("/a\x00b", "/a%00b"),
    ("/a\ud800b", "/a?b"),
    ('/"><script>', "/%22%3E%3Cscript%3E"),
]


@pytest.mark.parametrize(("sent", "location"), TABLE)
def test_next_goes_only_to_a_path_of_this_server(sent, location):
    assert local_target(sent) == location


@pytest.mark.parametrize(("sent", "location"), TABLE)
def test_what_is_sent_is_what_a_browser_reads(sent, location):
    """The header holds no character a browser would drop or reread."""
    assert browser_reads(location) == location
    assert location.isascii() and location.isprintable() and " " not in location


@pytest.mark.parametrize(
    "target,kept",
    [("/videos?state=ready", "/videos?state=ready"), ("//evil.example/", "/"), ("https://evil.example", "/"),
     ("/\\evil.example", "/"), ("", "/"), (None, "/"), ("videos", "/"), ("/?", "/")],
)  # fmt: skip
def test_after_signing_in_only_a_path_of_this_site(target, kept):
    assert local_target(target) == kept
