"""Every ffmpeg command, whole, against a reviewed copy (``data/commands.json``).

The tests beside this one check what each option is for; this one pins every option
down, so no change to what ffmpeg is told goes unseen. After a change you meant, write
the copy again and read its diff before committing it:

    TRANSCODER_WRITE_GOLDEN=1 .venv/bin/pytest tests/unit/media/test_commands_golden.py
"""

from dataclasses import replace
from pathlib import Path

from tests.support.golden import assert_matches_golden
from transcoder.media.commands import audio_args, join_args, sprite_args, video_part_args
from transcoder.media.ladder import renditions_for
from transcoder.media.planner import Part
from transcoder.media.policy import DEFAULT_LIMITS
from transcoder.media.previews import StoryboardLayout
from transcoder.media.probe import MediaInfo

GOLDEN = Path(__file__).parent / "data" / "commands.json"
MEDIA = MediaInfo(60.0, 1920, 1080, 1920, 1080, 0, "1:1", 30.0, True, "h264", "aac", "yuv420p", "mov",
                  audio_stream=1)  # fmt: skip
PORTRAIT = replace(MEDIA, width=1080, height=1920, coded_width=1080, coded_height=1920, audio_stream=None)
PLAN = StoryboardLayout(1, 60, 10, 6, 160, 90)


def commands() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for label, media in (("landscape", MEDIA), ("portrait", PORTRAIT)):
        renditions = renditions_for(media.width, media.height)
        names = tuple(r.name for r in renditions)
        folders = {name: Path(f"/out/{name}") for name in names}
        first = Part("v00", "video", names, 0, 0.0, 120, None, 4.0, (0, 4), 2.0)
        later = Part("v01", "video", names, 120, 4.0, 240, 3.983333, 8.0, (4, 8), None)
        out[f"{label} first part, tiles and poster"] = video_part_args(
            "/in/source", first, renditions, media, folders,
            tiles=(PLAN, Path("/out/tiles")), poster=Path("/out/poster.jpg"), threads=2,
        )  # fmt: skip
        out[f"{label} later part"] = video_part_args("/in/source", later, renditions, media, folders)
        out[f"{label} one rendition"] = video_part_args(
            "/in/source",
            replace(later, renditions=names[:1]),
            renditions[:1],
            media,
            folders,
            preset="medium",
        )
        out[f"{label} sound"] = audio_args(
            "/in/source", media, {64: Path("/out/a64"), 128: Path("/out/a128")}
        )
    out["sound at one bitrate"] = audio_args("/in/source", MEDIA, {96: Path("/out/a96")})
    out["join"] = join_args(Path("/w/v.mp4"), Path("/w/a.mp4"), Path("/w/out.mp4"), DEFAULT_LIMITS)
    out["join, silent"] = join_args(Path("/w/v.mp4"), None, Path("/w/out.mp4"), DEFAULT_LIMITS)
    out["sprite"] = sprite_args(Path("/w/tiles"), Path("/w/storyboard.jpg"), PLAN, DEFAULT_LIMITS)
    return out


def test_every_command_is_the_reviewed_one():
    assert_matches_golden(GOLDEN, commands())
