from pathlib import Path

import pytest

from transcoder.media.progress import Progress, parse_blocks

RECORDED = Path(__file__).parent / "data" / "progress-bigbuckbunny-144p.txt"


def test_recorded_run_gives_one_progress_per_block():
    blocks = list(parse_blocks(RECORDED.read_text().splitlines()))
    assert [(p.frame, p.out_time_s, p.speed, p.done) for p in blocks] == [
        (1, 0.064, 4.45, False),
        (66, 2.688, 5.14, False),
        (132, 5.312, 5.96, True),
    ]


def test_fraction_and_eta_use_the_probed_duration():
    p = Progress(out_time_s=2.688, frame=66, fps=30.0, speed=5.14, done=False)
    assert round(p.fraction(5.312), 3) == 0.506
    assert round(p.eta_seconds(5.312), 3) == round((5.312 - 2.688) / 5.14, 3)


def test_not_done_never_reports_complete():
    p = Progress(out_time_s=9.0, frame=1, fps=0.0, speed=1.0, done=False)
    assert p.fraction(5.0) < 1.0
    assert Progress(out_time_s=0.0, frame=0, fps=0.0, speed=None, done=True).fraction(5.0) == 1.0


def test_unknown_values_before_ffmpeg_knows_them():
    lines = [
        "frame=0",
        "fps=0.00",
        "out_time_us=N/A",
        "out_time_ms=N/A",
        "out_time=N/A",
        "speed=N/A",
        "progress=continue",
    ]
    [p] = parse_blocks(lines)
    assert (p.out_time_s, p.speed, p.done) == (0.0, None, False)
    assert p.eta_seconds(10.0) is None


def test_out_time_clock_is_used_when_microseconds_are_missing():
    [p] = parse_blocks(["out_time=00:01:02.500000", "progress=continue"])
    assert p.out_time_s == 62.5


def test_incomplete_trailing_block_is_not_reported():
    assert list(parse_blocks(["frame=3", "out_time_us=100"])) == []


def block(**fields):
    return [f"{k}={v}" for k, v in fields.items()] + ["progress=continue"]


def test_each_field_is_read_from_its_own_key_and_unknowns_are_zero_or_none():
    [p] = parse_blocks(block(frame=42, fps="29.5", out_time_us=2_500_000, speed="1.5x"))
    assert (p.frame, p.fps, p.out_time_s, p.speed, p.done) == (42, 29.5, 2.5, 1.5, False)
    [p] = parse_blocks(block(out_time_ms=1_000_000))  # the same microseconds under its old name
    assert p.out_time_s == 1.0
    [p] = parse_blocks(block(out_time="00:01:02.500000"))
    assert p.out_time_s == 62.5
    [p] = parse_blocks(block(out_time="02:01:02.500000"))
    assert p.out_time_s == 2 * 3600 + 62.5
    [p] = parse_blocks(block(frame="N/A", fps="nan", out_time="N/A", speed="N/A"))
    assert (p.frame, p.fps, p.out_time_s, p.speed) == (0, 0.0, 0.0, None)
    [p] = list(parse_blocks(["progress=end"]))
    assert p.done and p.frame == 0 and p.out_time_s == 0.0


def test_lines_without_a_value_are_skipped_and_blocks_go_on():
    lines = ["garbage", *block(frame=1), "", "stream_0_0_q=28.0", *block(frame=2, out_time_us="bad")]
    assert [p.frame for p in parse_blocks(lines)] == [1, 2]
    assert [p.out_time_s for p in parse_blocks(lines)] == [0.0, 0.0]


def test_a_value_may_hold_an_equals_sign():
    [p] = parse_blocks(["frame=3", "note=a=b", "progress=continue"])
    assert p.frame == 3


@pytest.mark.parametrize(
    ("out_time", "duration", "share", "speed", "eta"),
    [(5.0, 10.0, 0.5, 2.0, 2.5), (0.5, 1.0, 0.5, 1.0, 0.5), (12.0, 10.0, 0.999, 2.0, 0.0),
     (1.0, 0.0, 0.0, 0.5, 0.0), (1.0, -1.0, 0.0, None, None), (1.0, 4.0, 0.25, 0.0, None),
     (1.0, 4.0, 0.25, 0.5, 6.0)],
)  # fmt: skip
def test_share_done_and_time_left(out_time, duration, share, speed, eta):
    p = Progress(out_time, 10, 25.0, speed, done=False)
    assert p.fraction(duration) == share
    assert p.eta_seconds(duration) == eta
    finished = Progress(out_time, 10, 25.0, speed, done=True)
    assert finished.fraction(duration) == 1.0 and finished.eta_seconds(duration) == 0.0
