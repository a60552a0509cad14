from transcoder.hls import (
    FILE_NAME,
    Segment,
    Variant,
    bandwidths,
    codecs,
    parse_media_playlist,
    render_master,
    segment_args,
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


def test_segment_command_copies_streams_into_fmp4_segments():
    assert segment_args("/w/480p.part", "/w/hls") == [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-timelimit", "21600", "-y",
        "-nostats", "-progress", "pipe:1",
        "-format_whitelist", "mov,matroska,avi,mpegts,flv,ogg,mxf,mpeg", "-max_pixels", "9437184",
        "-protocol_whitelist", "file", "-i", "file:/w/480p.part",
        "-f", "hls", "-c", "copy", "-hls_flags", "independent_segments",
        "-hls_fmp4_init_filename", "init.mp4", "-hls_playlist_type", "vod",
        "-hls_segment_filename", "/w/hls/seg_%03d.m4s", "-hls_segment_type", "fmp4",
        "-hls_time", "4", "/w/hls/index.m3u8",
    ]  # fmt: skip


def test_media_playlist_segments_in_order():
    assert parse_media_playlist(PLAYLIST) == [Segment("seg_000.m4s", 4.0), Segment("seg_001.m4s", 1.28)]


def test_peak_and_average_bandwidth():
    segments = parse_media_playlist(PLAYLIST)
    peak, average = bandwidths(segments, {"seg_000.m4s": 400_000, "seg_001.m4s": 200_000}, init_size=1000)
    assert peak == 1_250_000  # 200 kB in 1.28 s
    assert average == 910_607  # 601 kB in 5.28 s, rounded up


def test_codecs_from_ffprobe_of_an_output():
    data = {"streams": [{"codec_name": "h264", "profile": "High", "level": 30}, {"codec_name": "aac"}]}
    assert codecs(data) == "avc1.64001e,mp4a.40.2"
    assert codecs({"streams": [{"codec_name": "h264", "profile": "Main", "level": 21}]}) == "avc1.4d0015"


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
