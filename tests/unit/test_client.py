from transcoder.client import parse_sse


def test_events_comments_and_multiline_data():
    lines = ["retry: 2000", "", ": keep-alive", "", "id: 3", "event: video", "data: {\"a\":", "data: 1}", "",
             "event: end", "data: {}", ""]  # fmt: skip
    assert list(parse_sse(iter(lines))) == [("video", "3", '{"a":\n1}'), ("end", "", "{}")]
