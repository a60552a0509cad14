"""Colour: HDR is tone-mapped to SDR BT.709, BT.601 converted to BT.709, BT.709 left alone."""

from dataclasses import replace
from pathlib import Path

from transcoder.media import color
from transcoder.media.commands import video_part_args
from transcoder.media.ladder import Rendition
from transcoder.media.planner import Part
from transcoder.media.probe import MediaInfo, parse_probe

HD = MediaInfo(2.0, 1920, 1080, 1920, 1080, 0, "1:1", 25.0, False, "hevc", None, "yuv420p10le", "mov")
HLG = replace(HD, color_transfer="arib-std-b67", color_primaries="bt2020", color_matrix="bt2020nc", hdr="hlg")
R480 = Rendition("480p", 854, 480, 1500, 128)


def test_hlg_goes_linear_at_reference_white_then_rolls_off_to_its_peak():
    names = [name for name, _ in color.hdr_filters(HLG)]
    assert names == ["zscale", "format", "zscale", "tonemap", "zscale"]
    linear, _, primaries, mapping, out = (options for _, options in color.hdr_filters(HLG))
    assert (linear["transferin"], linear["t"], linear["npl"]) == ("arib-std-b67", "linear", 203.0)
    assert primaries == {"p": "709"}
    assert mapping == {"tonemap": "mobius", "param": 0.8, "desat": 0, "peak": round(1000 / 203, 3)}
    assert out == {"t": "709", "m": "709", "r": "tv"}


def test_a_pq_source_rolls_off_to_the_peak_it_declares():
    pq = replace(HLG, color_transfer="smpte2084", hdr="pq", peak_nits=4000.0)
    linear, *_ = (options for _, options in color.hdr_filters(pq))
    assert linear["transferin"] == "smpte2084"
    assert dict(color.hdr_filters(pq))["tonemap"]["peak"] == round(4000 / 203, 3)


def test_a_part_tone_maps_before_scaling_and_tags_bt709():
    part = Part("v00", "video", ("480p",), 0, 0.0, 100, None, 4.0)
    argv = video_part_args("/in/source", part, [R480], HLG, {"480p": Path("/out/480p")})
    graph = argv[argv.index("-filter_complex") + 1]
    assert graph.index("tonemap=") < graph.index("scale=854:480")
    for option, value in (("-color_primaries", "bt709"), ("-color_trc", "bt709"), ("-colorspace", "bt709")):
        assert argv[argv.index(option) + 1] == value


def test_bt601_sources_are_converted_and_bt709_ones_are_not():
    sd = replace(HD, coded_width=720, coded_height=576, width=720, height=576, pix_fmt="yuv420p")
    assert color.scale_options(sd)["in_color_matrix"] == "bt601"  # untagged SD: what players assume
    assert color.scale_options(replace(sd, color_matrix="bt709"))["in_color_matrix"] == "bt709"
    assert color.scale_options(replace(HD, color_matrix="bt470bg"))["in_color_matrix"] == "bt601"
    assert color.scale_options(HD)["in_color_matrix"] == "bt709"  # untagged HD
    assert color.scale_options(HLG)["in_color_matrix"] == "bt709"  # after tone mapping
    assert color.hdr_filters(sd) == [] and color.hdr_filters(HD) == []
    assert color.scale_options(sd)["out_color_matrix"] == "bt709"
    assert color.scale_options(sd, jpeg=True) == {
        "in_color_matrix": "bt601", "out_color_matrix": "bt601", "out_range": "full"
    }  # fmt: skip


def test_probe_reads_hdr_tags_and_the_declared_peak():
    video = {
        "codec_type": "video", "codec_name": "hevc", "width": 3840, "height": 2160, "pix_fmt": "yuv420p10le",
        "color_transfer": "smpte2084", "color_primaries": "bt2020", "color_space": "bt2020nc",
        "side_data_list": [
            {"side_data_type": "Mastering display metadata", "max_luminance": "10000000/10000"},
            {"side_data_type": "Content light level metadata", "max_content": 1600, "max_average": 400},
            {"side_data_type": "DOVI configuration record", "dv_profile": 8},
        ],
    }  # fmt: skip
    media = parse_probe({"streams": [video], "format": {"duration": "3"}})
    assert (media.hdr, media.peak_nits, media.dolby_vision) == ("pq", 1600.0, True)
    assert (media.color_primaries, media.color_matrix) == ("bt2020", "bt2020nc")
    sdr = parse_probe({"streams": [{**video, "color_transfer": "bt709", "side_data_list": []}],
                       "format": {"duration": "3"}})  # fmt: skip
    assert (sdr.hdr, sdr.peak_nits, sdr.dolby_vision) == (None, None, False)


def test_every_hdr_filter_with_every_option_for_hlg_and_constant_luminance_pq():
    pq_cl = replace(HLG, color_transfer="smpte2084", hdr="pq", color_matrix="bt2020c", peak_nits=None)
    for media, transfer, matrix in ((HLG, "arib-std-b67", "2020_ncl"), (pq_cl, "smpte2084", "2020_cl")):
        assert color.hdr_filters(media) == [
            ("zscale", {"transferin": transfer, "primariesin": "2020", "matrixin": matrix, "t": "linear",
                        "npl": 203.0}),
            ("format", {"pix_fmts": "gbrpf32le"}),
            ("zscale", {"p": "709"}),
            ("tonemap", {"tonemap": "mobius", "param": 0.8, "desat": 0, "peak": 4.926}),
            ("zscale", {"t": "709", "m": "709", "r": "tv"}),
        ]  # fmt: skip
    assert color.hdr_filters(HD) == []


def test_the_filters_are_chained_in_order_onto_the_stream():
    applied = []

    class Stream:
        def filter(self, name, **options):
            applied.append((name, options))
            return self

    color.to_sdr(Stream(), HLG)
    assert applied == color.hdr_filters(HLG)


def test_a_peak_below_reference_white_is_taken_as_reference_white():
    assert color.peak(replace(HLG, peak_nits=100.0)) == 1.0
    assert color.peak(replace(HLG, peak_nits=406.0)) == 2.0


def test_untagged_video_is_bt601_below_720_lines_only():
    untagged = replace(HD, color_matrix=None)
    assert color.is_bt601(replace(untagged, coded_height=719))
    assert not color.is_bt601(replace(untagged, coded_height=720))
    assert color.scale_options(replace(untagged, coded_height=576)) == {
        "in_color_matrix": "bt601", "out_color_matrix": "bt709", "out_range": "tv",
    }  # fmt: skip
    assert color.scale_options(untagged, jpeg=True) == {
        "in_color_matrix": "bt709", "out_color_matrix": "bt601", "out_range": "full",
    }  # fmt: skip
