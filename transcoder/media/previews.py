"""A poster frame and a storyboard (sprite sheet plus WebVTT) for scrub previews: their sizes
and layout. They are made by the parts that decode the pictures anyway (``transcoder.media.commands``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypedDict

from transcoder.media.ladder import even
from transcoder.media.probe import MediaInfo

#: Frames the thumbnail filter compares to pick the most typical one (not a black or fade frame).
POSTER_CANDIDATES = 50
POSTER_SHORT_SIDE = 480
TILE_WIDTH = 160
MAX_TILES = 100
COLUMNS = 10


class StoryboardLayoutDict(TypedDict):
    """A ``StoryboardLayout`` as a video's document holds it."""

    interval: float
    count: int
    columns: int
    rows: int
    tile_width: int
    tile_height: int


@dataclass(frozen=True)
class StoryboardLayout:
    """Where each storyboard tile falls in time and in the sprite (kept in the video's
    document as ``storyboard_plan``, the name stored documents already carry)."""

    interval: float
    count: int
    columns: int
    rows: int
    tile_width: int
    tile_height: int

    def to_dict(self) -> StoryboardLayoutDict:
        return StoryboardLayoutDict(
            interval=self.interval,
            count=self.count,
            columns=self.columns,
            rows=self.rows,
            tile_width=self.tile_width,
            tile_height=self.tile_height,
        )

    @classmethod
    def from_dict(cls, data: StoryboardLayoutDict) -> StoryboardLayout:
        return cls(**data)


def poster_size(media: MediaInfo) -> tuple[int, int]:
    scale = min(1.0, POSTER_SHORT_SIDE / min(media.width, media.height))
    return even(media.width * scale), even(media.height * scale)


def lay_out_storyboard(media: MediaInfo) -> StoryboardLayout:
    """One tile every ``interval`` seconds (at most ``MAX_TILES``), ``COLUMNS`` to a row."""
    interval = max(1, math.ceil(media.duration / MAX_TILES))
    count = max(1, math.floor(media.duration / interval))
    columns = min(count, COLUMNS)
    tile_height = even(TILE_WIDTH * media.height / media.width)
    return StoryboardLayout(interval, count, columns, math.ceil(count / columns), TILE_WIDTH, tile_height)


def storyboard_vtt(layout: StoryboardLayout, duration: float, image_url: str) -> str:
    """WebVTT cues mapping each time span to its tile: ``image.jpg#xywh=x,y,w,h``."""
    lines = ["WEBVTT", ""]
    for i in range(layout.count):
        start = i * layout.interval
        end = duration if i == layout.count - 1 else (i + 1) * layout.interval
        x = (i % layout.columns) * layout.tile_width
        y = (i // layout.columns) * layout.tile_height
        lines += [
            f"{_clock(start)} --> {_clock(max(end, start + 0.001))}",
            f"{image_url}#xywh={x},{y},{layout.tile_width},{layout.tile_height}",
            "",
        ]
    return "\n".join(lines)


def _clock(seconds: float) -> str:
    millis = int(round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"
