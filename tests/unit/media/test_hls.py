import pytest

from transcoder.media.hls import (
    FILE_NAME,
    PartOutput,
    Segment,
    Variant,
    avc_codec,
    bandwidths,
    decode_time,
    parse_media_playlist,
    render_master,
    render_media,
    sample_description,
    segment_durations,
    timescale,
)

PLAYLIST = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="init.mp4"
#EXTINF:4.000000,
seg_000.m4s
#EXTINF:1.280000,
seg_001.m4s
#EXT-X-ENDLIST
"""


def test_growing_playlist_lists_parts_in_order_and_names_a_shared_init_once():
    parts = [
        PartOutput("v00", "aaa", (("seg_000.m4s", 4.0, 10),)),
        PartOutput("v01", "aaa", (("seg_000.m4s", 4.0, 10), ("seg_001.m4s", 3.5, 9))),
    ]
    assert render_media(parts, complete=False) == (
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        '#EXT-X-MAP:URI="v00/init.mp4"\n'
        "#EXTINF:4.000000,\nv00/seg_000.m4s\n#EXTINF:4.000000,\nv01/seg_000.m4s\n"
        "#EXTINF:3.500000,\nv01/seg_001.m4s\n"
    )


def test_complete_playlist_ends_and_names_each_different_init():
    parts = [
        PartOutput("v00", "aaa", (("seg_000.m4s", 4.0, 10),)),
        PartOutput("v01", "bbb", (("seg_000.m4s", 4.4, 9),)),
    ]
    text = render_media(parts, complete=True)
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and text.endswith("#EXT-X-ENDLIST\n")
    assert '#EXT-X-MAP:URI="v01/init.mp4"' in text
    assert "#EXT-X-TARGETDURATION:5" in text  # 4.4 s rounds up


def test_master_names_the_audio_group_each_variant_plays_with():
    variants = [Variant("144p", 256, 144, 314_000, 264_000, "avc1.64000c,mp4a.40.2", "a64")]
    text = render_master(variants, {"144p": "144p/index.m3u8", "a64": "a64/index.m3u8"})
    assert (
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a64",NAME="Sound",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="a64/index.m3u8"'
        in text
    )
    assert text.endswith('NAME="144p",AUDIO="a64"\n144p/index.m3u8\n')


def test_media_playlist_segments_in_order():
    assert parse_media_playlist(PLAYLIST) == [Segment("seg_000.m4s", 4.0), Segment("seg_001.m4s", 1.28)]


def test_peak_and_average_bandwidth():
    segments = parse_media_playlist(PLAYLIST)
    peak, average = bandwidths(segments, {"seg_000.m4s": 400_000, "seg_001.m4s": 200_000}, init_size=1000)
    assert peak == 1_250_000  # 200 kB in 1.28 s
    assert average == 910_607  # 601 kB in 5.28 s, rounded up


def test_master_lists_each_variant_with_what_players_need():
    variants = [Variant("144p", 256, 144, 250_000, 200_000, "avc1.64000c,mp4a.40.2")]
    assert render_master(variants, {"144p": "144p/index.m3u8"}) == (
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=250000,AVERAGE-BANDWIDTH=200000,RESOLUTION=256x144,"
        'CODECS="avc1.64000c,mp4a.40.2",NAME="144p"\n'
        "144p/index.m3u8\n"
    )


def test_only_our_own_file_names_are_served():
    assert all(FILE_NAME.match(n) for n in ("index.m3u8", "init.mp4", "seg_000.m4s", "seg_1234.m4s"))
    assert not any(FILE_NAME.match(n) for n in ("../source", "seg_0.m4s", "index.m3u8/..", "x.mp4", ""))


def test_codec_name_from_an_init_segments_avc_configuration():
    init = b"\x00\x00\x00\x2aavcC\x01\x64\x00\x1e\xff\xe1"
    assert avc_codec(init) == "avc1.64001e"


def test_sample_description_is_the_stsd_box_alone():
    stsd = b"\x00\x00\x00\x10stsd\x00\x00\x00\x00\x00\x00\x00\x01"
    init = b"\x00\x00\x00\x08ftyp" + stsd + b"\x00\x00\x00\x08elst"
    assert sample_description(init) == stsd


def test_segment_lengths_come_from_decode_times_not_ffmpegs_playlist():
    # Three segments of a part that starts at 5 s and lasts 9.9 s, in 15360 ticks per second.
    times = [5 * 15360 - 1024, 9 * 15360 - 1024, 13 * 15360 - 1024]  # decoded 1024 ticks early
    assert segment_durations(times, 15360, 5.0, 14.9) == [4.0, 4.0, 1.9]


def test_decode_time_and_timescale_are_read_from_the_boxes():
    tfdt = b"\x00\x00\x00\x14tfdt\x01\x00\x00\x00" + (123456789).to_bytes(8, "big")
    assert decode_time(b"\x00\x00\x00\x08moof" + tfdt) == 123456789
    mdhd = b"\x00\x00\x00\x20mdhd\x00\x00\x00\x00" + b"\x00" * 8 + (15360).to_bytes(4, "big") + b"\x00" * 8
    assert timescale(b"\x00\x00\x00\x08moov" + mdhd) == 15360


def test_a_segment_needs_its_own_duration_line():
    with pytest.raises(ValueError, match="'seg_001.m4s' has no #EXTINF before it"):
        parse_media_playlist("#EXTM3U\n#EXTINF:4.0,\nseg_000.m4s\nseg_001.m4s\n")


def test_bandwidth_of_nothing_and_of_empty_segments_is_zero():
    assert bandwidths([], {}) == (0, 0)
    assert bandwidths([Segment("a", 0.0)], {"a": 100}) == (0, 0)
    # A segment under a second still counts: the peak is per second of that segment.
    assert bandwidths([Segment("a", 0.5)], {"a": 100}) == (1600, 1600)


@pytest.mark.parametrize(
    "init", [b"", b"\x00\x00\x00\x08ftyp", b"avcC\x01\x64\x00", b"\x00\x00\x00\x2aavcC\x01\x64\x00"]
)
def test_an_init_segment_without_a_whole_avc_configuration_is_refused(init):
    with pytest.raises(ValueError, match=r"This init segment holds no H.264 configuration \(avcC\)."):
        avc_codec(init)


def test_the_first_avc_configuration_names_the_codec():
    assert avc_codec(b"avcC\x01\x4d\x40\x15" + b"avcC\x01\x64\x00\x1e") == "avc1.4d4015"


def test_the_first_sample_description_is_taken_whole_and_none_is_refused():
    first = b"\x00\x00\x00\x0cstsd\x00\x00\x00\x01"
    second = b"\x00\x00\x00\x0cstsd\x00\x00\x00\x02"
    assert sample_description(b"\x00\x00\x00\x08moov" + first + second) == first
    for init in (b"", b"stsd\x00\x00", b"\x00\x00stsd"):
        with pytest.raises(ValueError, match=r"This init segment holds no sample description \(stsd\)."):
            sample_description(init)


def test_a_version_0_decode_time_and_a_version_1_timescale_are_read_too():
    tfdt = b"\x00\x00\x00\x10tfdt\x00\x00\x00\x00" + (4096).to_bytes(4, "big") + b"\xff" * 4
    assert decode_time(b"\x00\x00\x00\x08moof" + tfdt + b"tfdt") == 4096
    mdhd = b"\x00\x00\x00\x2cmdhd\x01\x00\x00\x00" + b"\x00" * 16 + (90000).to_bytes(4, "big") + b"\xff" * 8
    assert timescale(b"\x00\x00\x00\x08moov" + mdhd + b"mdhd") == 90000
    with pytest.raises(ValueError, match="No tfdt box found."):
        decode_time(b"tfdt\x00\x00\x00\x00")
