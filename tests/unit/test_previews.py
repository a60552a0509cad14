from transcoder.previews import (
    StoryboardPlan,
    plan_storyboard,
    poster_args,
    poster_size,
    storyboard_args,
    storyboard_vtt,
)
from transcoder.probe import MediaInfo

HEAD = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-timelimit", "21600", "-y",
        "-nostats", "-progress", "pipe:1"]  # fmt: skip


def media(duration, width=1280, height=720):
    return MediaInfo(
        duration, width, height, width, height, 0, "1:1", 25.0, True, "h264", "aac", "yuv420p", "mov"
    )


def test_poster_skips_the_opening_and_picks_a_typical_frame():
    assert poster_args("/s/source", "/s/poster.part", media(30.0)) == [
        *HEAD, "-format_whitelist", "mov,matroska,avi,mpegts,flv,ogg,mxf,mpeg", "-max_pixels", "9437184",
        "-protocol_whitelist", "file", "-i", "file:/s/source",
        "-filter_complex",
        "[0:0]trim=start=3.0[s0];[s0]setpts=PTS-STARTPTS[s1];[s1]thumbnail=50[s2];[s2]scale=854:480:in_color_matrix=bt709:out_color_matrix=bt601:out_range=full[s3];"
        "[s3]setsar=1[s4]",
        "-map", "[s4]", "-f", "image2", "-q:v", "3", "-vcodec", "mjpeg", "-vframes", "1", "/s/poster.part",
    ]  # fmt: skip


def test_short_video_poster_starts_at_zero_and_small_sources_are_not_upscaled():
    argv = poster_args("a", "b", media(1.5, 320, 240))
    assert argv[argv.index("-filter_complex") + 1].startswith("[0:0]thumbnail=50[s0]")
    assert poster_size(media(5, 320, 240)) == (320, 240)
    assert poster_size(media(5, 1080, 1920)) == (480, 854)


def test_storyboard_plan_caps_tiles_and_keeps_aspect():
    assert plan_storyboard(media(5.312)) == StoryboardPlan(1, 5, 5, 1, 160, 90)
    assert plan_storyboard(media(10.0, 640, 272)) == StoryboardPlan(1, 10, 10, 1, 160, 68)
    long_one = plan_storyboard(media(3600.0))
    assert (long_one.interval, long_one.count, long_one.columns, long_one.rows) == (36, 100, 10, 10)
    assert plan_storyboard(media(0.04)).count == 1


def test_storyboard_command_tiles_frames_into_one_image():
    plan = StoryboardPlan(2, 13, 10, 2, 160, 90)
    assert storyboard_args("/s/source", "out", plan, media(26.0)) == [
        *HEAD, "-format_whitelist", "mov,matroska,avi,mpegts,flv,ogg,mxf,mpeg", "-max_pixels", "9437184",
        "-protocol_whitelist", "file", "-i", "file:/s/source",
        "-filter_complex",
        "[0:0]fps=1/2:eof_action=pass[s0];[s0]scale=160:90:in_color_matrix=bt709:out_color_matrix=bt601:out_range=full[s1];[s1]setsar=1[s2];[s2]tile=10x2[s3]",
        "-map", "[s3]", "-f", "image2", "-q:v", "4", "-vcodec", "mjpeg", "-vframes", "1", "out",
    ]  # fmt: skip


def test_vtt_maps_each_span_to_its_tile_and_the_last_runs_to_the_end():
    plan = StoryboardPlan(2, 12, 10, 2, 160, 90)
    vtt = storyboard_vtt(plan, 24.5, "storyboard.jpg")
    blocks = vtt.strip().split("\n\n")
    assert blocks[0] == "WEBVTT"
    assert blocks[1] == "00:00:00.000 --> 00:00:02.000\nstoryboard.jpg#xywh=0,0,160,90"
    assert blocks[11] == "00:00:20.000 --> 00:00:22.000\nstoryboard.jpg#xywh=0,90,160,90"
    assert blocks[12] == "00:00:22.000 --> 00:00:24.500\nstoryboard.jpg#xywh=160,90,160,90"
    assert len(blocks) == 13
