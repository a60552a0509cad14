"""The rendition ladder: which sizes a source gets, and at what bitrates.

Each step of the ladder is named by the short side of the displayed frame, so a portrait
phone video's 360p is 360 wide. We never upscale, but always make the lowest step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict


@dataclass(frozen=True)
class Step:
    """One step of the ladder, before it meets a source."""

    name: str
    short_side: int
    video_maxrate_k: int
    audio_bitrate_k: int


#: Lowest first: lower renditions are enqueued first, so a video is watchable soonest.
LADDER: tuple[Step, ...] = (
    Step("144p", 144, 250, 64),
    Step("240p", 240, 500, 64),
    Step("360p", 360, 900, 96),
    Step("480p", 480, 1500, 128),
)


class RenditionDict(TypedDict):
    """A ``Rendition`` as a video's document holds it."""

    name: str
    width: int
    height: int
    video_maxrate_k: int
    audio_bitrate_k: int


@dataclass(frozen=True)
class Rendition:
    """One output size: a step of the ladder fitted to a particular source."""

    name: str
    width: int
    height: int
    video_maxrate_k: int
    audio_bitrate_k: int

    def to_dict(self) -> RenditionDict:
        return RenditionDict(
            name=self.name,
            width=self.width,
            height=self.height,
            video_maxrate_k=self.video_maxrate_k,
            audio_bitrate_k=self.audio_bitrate_k,
        )

    @classmethod
    def from_dict(cls, data: RenditionDict) -> Rendition:
        """The rendition's size from its entry (which may hold its state too)."""
        return cls(
            data["name"], data["width"], data["height"], data["video_maxrate_k"], data["audio_bitrate_k"]
        )


def renditions_for(width: int, height: int) -> list[Rendition]:
    """Renditions for a source shown at ``width`` x ``height``, lowest first."""
    short, long_ = min(width, height), max(width, height)
    out: list[Rendition] = []
    for step in LADDER:
        if step.short_side <= short:
            scaled = even(long_ * step.short_side / short)
            new_short, new_long = step.short_side, min(scaled, _even_down(long_))
        elif not out:
            # Smaller than the lowest step: keep the source size, made even.
            new_short, new_long = _even_down(short), _even_down(long_)
        else:
            break
        w, h = (new_long, new_short) if width >= height else (new_short, new_long)
        out.append(Rendition(step.name, w, h, step.video_maxrate_k, step.audio_bitrate_k))
    return out


def even(value: float) -> int:
    """The nearest even size, at least 2 (x264 with 4:2:0 chroma needs even sides)."""
    return max(2, int(round(value / 2)) * 2)


def _even_down(value: int) -> int:
    return max(2, value - value % 2)
