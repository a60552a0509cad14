from transcoder.media.previews import StoryboardLayout, lay_out_storyboard, poster_size, storyboard_vtt
from transcoder.media.probe import MediaInfo


def media(duration, width=1280, height=720):
    return MediaInfo(
        duration, width, height, width, height, 0, "1:1", 25.0, True, "h264", "aac", "yuv420p", "mov"
    )


def test_posters_are_not_upscaled_and_keep_their_orientation():
    assert poster_size(media(5, 320, 240)) == (320, 240)
    assert poster_size(media(5, 1080, 1920)) == (480, 854)


def test_storyboard_plan_caps_tiles_and_keeps_aspect():
    assert lay_out_storyboard(media(5.312)) == StoryboardLayout(1, 5, 5, 1, 160, 90)
    assert lay_out_storyboard(media(10.0, 640, 272)) == StoryboardLayout(1, 10, 10, 1, 160, 68)
    long_one = lay_out_storyboard(media(3600.0))
    assert (long_one.interval, long_one.count, long_one.columns, long_one.rows) == (36, 100, 10, 10)
    assert lay_out_storyboard(media(0.04)).count == 1


def test_vtt_maps_each_span_to_its_tile_and_the_last_runs_to_the_end():
    plan = StoryboardLayout(2, 12, 10, 2, 160, 90)
    vtt = storyboard_vtt(plan, 24.5, "storyboard.jpg")
    blocks = vtt.strip().split("\n\n")
    assert blocks[0] == "WEBVTT"
    assert blocks[1] == "00:00:00.000 --> 00:00:02.000\nstoryboard.jpg#xywh=0,0,160,90"
    assert blocks[11] == "00:00:20.000 --> 00:00:22.000\nstoryboard.jpg#xywh=0,90,160,90"
    assert blocks[12] == "00:00:22.000 --> 00:00:24.500\nstoryboard.jpg#xywh=160,90,160,90"
    assert len(blocks) == 13
