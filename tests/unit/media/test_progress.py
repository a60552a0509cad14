from pathlib import Path

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
