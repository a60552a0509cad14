import pytest

from transcoder.media.ladder import Rendition, renditions_for


def sizes(width, height):
    return [(r.name, r.width, r.height) for r in renditions_for(width, height)]


def test_landscape_720p_gets_every_step():
    assert sizes(1280, 720) == [
        ("144p", 256, 144),
        ("240p", 426, 240),
        ("360p", 640, 360),
        ("480p", 854, 480),
    ]


def test_portrait_names_renditions_by_the_short_side():
    assert sizes(720, 1280) == [
        ("144p", 144, 256),
        ("240p", 240, 426),
        ("360p", 360, 640),
        ("480p", 480, 854),
    ]


def test_odd_size_never_upscales_and_stays_even():
    assert sizes(853, 479) == [("144p", 256, 144), ("240p", 428, 240), ("360p", 642, 360)]


def test_exactly_144_gets_only_the_lowest_step():
    assert sizes(176, 144) == [("144p", 176, 144)]


def test_bikes_640x272_gets_144p_and_240p():
    assert sizes(640, 272) == [("144p", 338, 144), ("240p", 564, 240)]


def test_source_below_144_keeps_its_own_even_size():
    assert sizes(121, 97) == [("144p", 120, 96)]
    assert sizes(97, 121) == [("144p", 96, 120)]


def test_rotated_phone_video_is_planned_from_displayed_size():
    # A 1920x1080 recording with a 90 degree rotation is shown 1080x1920 (see test_probe).
    assert sizes(1080, 1920)[-1] == ("480p", 480, 854)


@pytest.mark.parametrize("width,height", [(1280, 720), (720, 1280), (853, 479), (640, 272), (3, 5)])
def test_every_rendition_has_even_dimensions_no_larger_than_the_source(width, height):
    for r in renditions_for(width, height):
        assert r.width % 2 == 0 and r.height % 2 == 0
        assert max(r.width, r.height) <= max(width, height, 2)


def test_bitrate_caps_rise_with_the_step():
    caps = [r.video_maxrate_k for r in renditions_for(1920, 1080)]
    assert caps == sorted(caps) and len(set(caps)) == 4


def test_rendition_round_trips_through_a_dict():
    r = renditions_for(1280, 720)[2]
    assert Rendition.from_dict(r.to_dict()) == r
