"""The commands a part runs (pure: arguments in, argument lists out)."""

from dataclasses import replace
from pathlib import Path

from transcoder.media.commands import TIMELINE_OFFSET_S, audio_args, video_part_args
from transcoder.media.ladder import renditions_for as ladder
from transcoder.media.planner import Part
from transcoder.media.policy import Limits
from transcoder.media.previews import StoryboardLayout
from transcoder.media.probe import MediaInfo

MEDIA = MediaInfo(60.0, 1920, 1080, 1920, 1080, 0, "1:1", 30.0, True, "h264", "aac", "yuv420p", "mov",
                  audio_stream=1)  # fmt: skip
RENDITIONS = ladder(1920, 1080)
PART = Part("v01", "video", tuple(r.name for r in RENDITIONS), 120, 4.0, 240, 3.983333, 8.0, (4, 8), 2.0)
FOLDERS = {r.name: Path(f"/out/{r.name}") for r in RENDITIONS}


def args(**kwargs):
    return video_part_args("/in/source", PART, RENDITIONS, MEDIA, FOLDERS, **kwargs)


def values(argv, option):
    return [argv[i + 1] for i, a in enumerate(argv) if a == option]


def test_one_input_seeked_halfway_before_the_first_frame_and_cut_to_its_frame_count():
    argv = args()
    assert argv.count("-i") == 1
    assert values(argv, "-ss") == ["3.983333"]
    graph = values(argv, "-filter_complex")[0]
    assert graph.startswith("[0:0]setpts=PTS-STARTPTS[s0];[s0]trim=end_frame=240[s1]")


def test_a_part_with_a_known_keyframe_decodes_from_it_and_drops_the_frames_before_its_first():
    argv = video_part_args("/in/source", replace(PART, keyframe_seek=6.5), RENDITIONS, MEDIA, FOLDERS)
    assert values(argv, "-ss") == ["6.500000"] and "-noaccurate_seek" in argv
    graph = values(argv, "-filter_complex")[0]
    assert graph.startswith(r"[0:0]select=gte(t\,-2.516667)[s0];[s0]setpts=PTS-STARTPTS[s1];")


def test_the_decoders_threads_are_an_input_option():
    argv = args(decode_threads=1)
    assert argv[argv.index("-threads") + 1] == "1" and argv.index("-threads") < argv.index("-i")
    assert argv.count("-threads") == 1 + len(RENDITIONS)


def test_one_decode_feeds_every_rendition_and_only_the_largest_scales_from_the_source():
    graph = values(args(), "-filter_complex")[0]
    assert graph.count("scale=854:480:in_color_matrix=bt709") == 1
    assert graph.count("split=4") == 1
    for size in ("640:360", "426:240", "256:144"):
        assert f"scale={size}:in_color_matrix=bt709:in_range=tv:out_color_matrix=bt709:out_range=tv" in graph


def test_every_rendition_goes_to_hls_on_the_videos_own_timeline_with_shared_keyframes():
    argv = args()
    assert values(argv, "-f") == ["hls"] * 4
    assert values(argv, "-output_ts_offset") == [str(4.0 + TIMELINE_OFFSET_S)] * 4
    assert values(argv, "-hls_segment_options") == ["movflags=+frag_discont"] * 4
    assert values(argv, "-force_key_frames") == ["expr:gte(t,n_forced*2)"] * 4
    assert values(argv, "-fps_mode") == ["passthrough"] * 4
    assert values(argv, "-maxrate") == ["250k", "500k", "900k", "1500k"]
    assert [a for a in argv if a.endswith("index.m3u8")] == [f"/out/{r.name}/index.m3u8" for r in RENDITIONS]


def test_tiles_and_poster_are_more_outputs_of_the_same_decode():
    plan = StoryboardLayout(1, 60, 10, 6, 160, 90)
    argv = args(tiles=(plan, Path("/out/tiles")), poster=Path("/out/poster.jpg"))
    assert argv.count("-i") == 1
    graph = values(argv, "-filter_complex")[0]
    assert "split=3" in graph  # the picture: renditions, tiles, poster
    assert "fps=1/1:eof_action=pass:start_time=0.0" in graph  # tile 4 is at the part's start
    assert "trim=start=2.0" in graph and "thumbnail=50" in graph
    assert "trim=end_frame=50[" in graph  # only the candidates are weighed
    assert values(argv, "-start_number") == ["4"] and values(argv, "-vframes") == ["8", "1"]


def test_the_first_part_does_not_seek():
    first = Part("v00", "video", ("144p",), 0, 0.0, 120, None, 4.0)
    argv = video_part_args("/in/source", first, RENDITIONS[:1], MEDIA, FOLDERS)
    assert "-ss" not in argv
    assert values(argv, "-output_ts_offset") == [str(TIMELINE_OFFSET_S)]


def test_the_sound_is_decoded_once_and_encoded_at_each_bitrate():
    argv = audio_args("/in/source", MEDIA, {64: Path("/out/a64"), 128: Path("/out/a128")})
    assert argv.count("-i") == 1
    assert values(argv, "-filter_complex") == ["[0:1]asplit=2[s0][s1]"]
    assert values(argv, "-b:a") == ["64k", "128k"]
    assert values(argv, "-output_ts_offset") == [str(TIMELINE_OFFSET_S)] * 2


def test_streams_are_chosen_by_index_and_interlaced_frames_are_cut_before_deinterlacing():
    media = replace(MEDIA, video_stream=2, audio_stream=5, interlaced=True)
    graph = values(video_part_args("/in/source", PART, RENDITIONS[:1], media, FOLDERS), "-filter_complex")[0]
    # The frame count is the source's: trim counts frames before bwdif makes one picture per field.
    assert graph.startswith("[0:2]setpts=PTS-STARTPTS[s0];[s0]trim=end_frame=240[s1];[s1]bwdif[s2]")
    assert values(audio_args("/in/source", media, {64: Path("/a")}), "-map") == ["0:5"]


def test_limits_preset_and_threads_reach_the_command():
    limits = Limits(max_pixels=1000, ffmpeg_cpu_seconds=30)
    argv = video_part_args("/in/source", PART, RENDITIONS[:1], MEDIA, FOLDERS, preset="medium", threads=2,
                           limits=limits)  # fmt: skip
    assert values(argv, "-timelimit") == ["30"] and values(argv, "-max_pixels") == ["1000"]
    assert values(argv, "-preset") == ["medium"] and values(argv, "-threads") == ["2"]
