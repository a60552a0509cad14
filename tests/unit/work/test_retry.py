"""The pause before a part's next attempt: 2, 4, 8... seconds, at most 60."""

from transcoder.work.retry import backoff_seconds


def test_pauses_double_from_two_seconds():
    assert [backoff_seconds(n) for n in (1, 2, 3, 4, 5)] == [2.0, 4.0, 8.0, 16.0, 32.0]


def test_pauses_stop_growing_at_a_minute():
    assert backoff_seconds(6) == 60.0
    assert backoff_seconds(40) == 60.0
