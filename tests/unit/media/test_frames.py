"""Every frame's time from ffprobe's packet lines (pure)."""

from pathlib import Path

import pytest

from transcoder.media.frames import Frames, parse_packets, scan_args


def test_packets_in_decode_order_become_frames_in_presentation_order_with_their_keyframes():
    text = "0.000000,-0.066667,K__\n0.133333,-0.033333,___\n0.066667,0.000000,___\n0.200000,0.033333,K__\n"
    frames = parse_packets(text)
    assert frames.times == (0.0, 0.066667, 0.133333, 0.2)
    assert frames.keyframes == frozenset({0, 3})


def test_a_packet_without_a_presentation_time_takes_its_decode_time_and_one_with_neither_is_left_out():
    text = "N/A,1.5,K_\n,2.0,_\nN/A,N/A,_\n,,K\nshort,line\n\n2.5,2.5,_\n"
    frames = parse_packets(text, start_time=1.0)
    assert frames.times == (0.5, 1.0, 1.5)
    assert frames.keyframes == frozenset({0})


def test_the_length_is_the_last_frames_time_plus_the_typical_gap():
    assert Frames((), frozenset()).duration == 0.0
    assert Frames((0.0,), frozenset({0})).duration == 0.04
    # Gaps of 0.04 but one of 1.0 (a pause): the typical gap is the median, not the mean.
    assert Frames((0.0, 0.04, 0.08, 1.08, 1.12), frozenset({0})).duration == pytest.approx(1.16)


def test_the_scan_reads_packets_of_one_stream_of_a_local_file_only():
    argv = scan_args(Path("/in/source"), 2)
    assert argv[:2] == ["ffprobe", "-v"] and argv[-1] == "file:/in/source"
    assert argv[argv.index("-select_streams") + 1] == "2"
    assert argv[argv.index("-show_entries") + 1] == "packet=pts_time,dts_time,flags"
    assert argv[argv.index("-protocol_whitelist") + 1] == "file"


def test_times_are_kept_to_the_microsecond():
    assert parse_packets("0.1234564,0,K\n0.1234566,0,_\n").times == (0.123456, 0.123457)
