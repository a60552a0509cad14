"""How a video's work is cut into parts (pure: frame lists in, parts out)."""

from fractions import Fraction

from transcoder.media.frames import Frames, parse_packets
from transcoder.media.planner import FIRST_CHUNK_S, chunk_seconds, cut, plan, poster_time
from transcoder.media.previews import StoryboardLayout

RENDITIONS = ["144p", "240p", "360p", "480p"]


def cfr(seconds: float, fps: float = 30.0, gop: int = 250) -> Frames:
    count = round(seconds * fps)
    return Frames(tuple(round(i / fps, 6) for i in range(count)), frozenset(range(0, count, gop)))


def storyboard(seconds: int) -> StoryboardLayout:
    return StoryboardLayout(1, seconds, 10, -(-seconds // 10), 160, 90)


def test_a_short_video_is_one_part_with_every_rendition_plus_sound_and_join():
    """The lowest sound first, then the pictures, then the other sounds: playable soonest."""
    parts = plan(cfr(6), RENDITIONS, storyboard(6), audio_bitrates=[64, 64, 96, 128], poster_at=0.6)
    assert [(p.id, p.kind, p.renditions, p.bitrate_k) for p in parts] == [
        ("a64", "audio", (), 64),
        ("v00", "video", tuple(RENDITIONS), 0),
        ("a96", "audio", (), 96),
        ("a128", "audio", (), 128),
        ("join", "join", tuple(RENDITIONS), 0),
    ]
    assert parts[1].frames == 180 and parts[1].seek is None
    assert parts[-1].after == ("a64", "v00", "a96", "a128")


def test_a_silent_video_has_no_sound_part():
    parts = plan(cfr(6), RENDITIONS, storyboard(6), audio_bitrates=[])
    assert [p.id for p in parts] == ["v00", "join"]
    assert parts[-1].after == ("v00",)


def test_chunks_cover_every_frame_once_and_start_with_a_short_one():
    frames = cfr(60)
    ranges = cut(frames, chunk_seconds(60))
    assert ranges[0] == (0, round(FIRST_CHUNK_S * 30))
    assert ranges[-1][1] == len(frames.times)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    lengths = [(b - a) / 30 for a, b in ranges[1:]]
    assert min(lengths) >= 4 and max(lengths) <= 2 * chunk_seconds(60)


def test_chunk_length_grows_with_the_video_within_bounds():
    assert chunk_seconds(60) == 8  # the shortest worth a part's start-up
    assert chunk_seconds(600) == 52  # about twelve chunks
    assert chunk_seconds(4 * 3600) == 60  # the longest
    assert chunk_seconds(600, configured=10) == 12  # whole 4 s segments


def test_a_chunk_starts_on_a_nearby_source_keyframe_so_no_decode_is_wasted():
    frames = cfr(60, gop=60)  # a keyframe every 2 s
    starts = [frames.times[a] for a, _ in cut(frames, 8)]
    assert all(round(t * 30) % 60 == 0 for t in starts)


def test_a_keyframe_near_the_end_never_stalls_the_cut():
    """24 s with a keyframe every 10 s: the chunk after 10 s would snap to 20 s, too near the
    end to start a chunk; the last chunk runs to the end instead."""
    frames = cfr(24, fps=25, gop=250)
    ranges = cut(frames, 8)
    assert [frames.times[a] for a, _ in ranges] == [0.0, 2.0, 10.0]
    assert ranges[-1][1] == len(frames.times)


def test_every_length_and_keyframe_spacing_is_cut_whole():
    for seconds in range(10, 80, 3):
        for gop in (1, 30, 60, 250, 10_000):
            frames = cfr(seconds, gop=gop)
            ranges = cut(frames, chunk_seconds(seconds))
            assert ranges[0][0] == 0 and ranges[-1][1] == len(frames.times)
            assert all(a[1] == b[0] and a[0] < a[1] for a, b in zip(ranges, ranges[1:], strict=False))


def test_each_part_seeks_halfway_before_its_first_frame_even_at_29_97():
    fps = float(Fraction(30000, 1001))
    frames = cfr(60, fps=fps)
    for part in plan(frames, RENDITIONS, storyboard(60), audio_bitrates=[])[1:-1]:
        before, first = frames.times[part.first - 1], frames.times[part.first]
        assert part.start == first
        assert before < part.seek < first


def test_each_part_sends_the_demuxer_past_the_keyframe_it_decodes_from():
    """Halfway between that keyframe and the next, whether the part starts on one or not."""
    frames = cfr(60, fps=25, gop=125)
    for part in plan(frames, RENDITIONS, storyboard(60), audio_bitrates=[])[1:-1]:
        landing = max(k for k in frames.keyframes if k <= part.first)
        following = min((k for k in frames.keyframes if k > landing), default=None)
        end = frames.times[following] if following is not None else frames.duration
        assert frames.times[landing] < part.keyframe_seek < end
        assert part.keyframe_seek == round((frames.times[landing] + end) / 2, 6)


def test_later_chunks_start_on_a_keyframe_up_to_half_a_chunk_away():
    """Keyframes every 5.28 s, as an encoder places them at a film's cuts: no chunk after the
    second starts between two (each would decode frames it throws away). The first keeps its
    2 s, as playback waits for it."""
    frames = Frames(tuple(round(i / 25, 6) for i in range(1500)), frozenset(range(0, 1500, 132)))
    ranges = cut(frames, chunk_seconds(60))
    assert all(first in frames.keyframes for first, _ in ranges[2:])
    assert ranges[0][1] == 50


def test_the_first_chunk_ends_on_a_keyframe_only_if_one_is_close():
    phone = Frames(tuple(round(i / 30, 6) for i in range(1800)), frozenset(range(0, 1800, 75)))
    assert cut(phone, 8)[0] == (0, 75)  # a keyframe at 2.5 s


def test_with_no_keyframe_known_a_part_seeks_as_before():
    frames = Frames(tuple(round(i / 30, 6) for i in range(900)), frozenset())
    assert all(p.keyframe_seek is None for p in plan(frames, RENDITIONS, storyboard(30), audio_bitrates=[]))


def test_a_variable_frame_rate_is_cut_on_its_own_frame_times():
    times = []
    t = 0.0
    for i in range(1500):
        times.append(round(t, 6))
        t += 1 / 30 if i % 3 else 1 / 20
    frames = Frames(tuple(times), frozenset(range(0, 1500, 100)))
    parts = plan(frames, RENDITIONS, storyboard(60), audio_bitrates=[])[:-1]
    assert sum(p.frames for p in parts) == 1500
    assert all(p.start == times[p.first] for p in parts)


def test_renditions_shape_is_one_whole_video_part_per_rendition():
    parts = plan(
        cfr(60), RENDITIONS, storyboard(60), audio_bitrates=[64, 64, 96, 128], shape="renditions", poster_at=6
    )
    video = [p for p in parts if p.kind == "video"]
    assert [p.renditions for p in video] == [(r,) for r in RENDITIONS]
    assert all(p.frames == 1800 and p.seek is None for p in video)
    # The first part makes every tile and the poster; the others none.
    assert video[0].tiles == (0, 60) and video[0].poster_at == 6
    assert all(p.tiles == (0, 0) and p.poster_at is None for p in video[1:])


def test_every_tile_is_made_by_exactly_one_chunk_and_the_poster_by_one():
    parts = [
        p
        for p in plan(cfr(60), RENDITIONS, storyboard(60), audio_bitrates=[64, 64, 96, 128], poster_at=6)
        if p.kind == "video"
    ]
    tiles = [i for p in parts for i in range(p.tiles[0], p.tiles[0] + p.tiles[1])]
    assert tiles == list(range(60))
    posters = [p for p in parts if p.poster_at is not None]
    assert len(posters) == 1 and posters[0].start + posters[0].poster_at == 6


def test_poster_time_is_a_little_way_in():
    assert (poster_time(1), poster_time(60), poster_time(3600)) == (0.0, 6.0, 60.0)


def test_packets_in_decode_order_become_sorted_frame_times_from_the_start():
    text = "1.100000,1.000000,K_\n1.033333,1.033333,__\nN/A,1.066667,__\nN/A,N/A,__\n1.066667,1.066667,K_\n"
    frames = parse_packets(text, start_time=1.0)
    assert frames.times == (0.033333, 0.066667, 0.066667, 0.1)
    assert frames.keyframes == {2, 3}  # the keyframe at 1.1 s and the one at 1.0667 s
    assert round(frames.duration, 6) == round(0.1 + 0.033333, 6)


def test_the_first_part_makes_the_tiles_and_poster_before_its_first_frame():
    # A file whose sound starts first: the pictures start 23 ms in.
    frames = Frames(tuple(round(0.023 + i / 25, 6) for i in range(50)), frozenset({0}))
    parts = plan(
        frames,
        ["144p"],
        StoryboardLayout(1, 2, 2, 1, 160, 68),
        audio_bitrates=[64, 64, 96, 128],
        poster_at=0.0,
    )
    video = parts[1]
    assert video.tiles == (0, 2) and video.poster_at == 0.0


def test_what_playback_waits_for_is_urgent_and_nothing_else():
    for shape in ("chunks", "renditions"):
        parts = plan(cfr(60), RENDITIONS, storyboard(60), audio_bitrates=[64, 64, 96, 128], shape=shape)
        assert [p.id for p in parts if p.urgent] == ["a64", "v00"], shape
