"""The rendition ladder: which sizes a source gets, and at what bitrates.

A rung is named by the short side of the displayed frame, so a portrait phone
video's 360p is 360 wide. We never upscale, but always make the lowest rung.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Rung:
    name: str
    short_side: int
    video_maxrate_k: int
    audio_bitrate_k: int


#: Lowest first: lower rungs are enqueued first, so a video is watchable soonest.
LADDER: tuple[Rung, ...] = (
    Rung("144p", 144, 250, 64),
    Rung("240p", 240, 500, 64),
    Rung("360p", 360, 900, 96),
    Rung("480p", 480, 1500, 128),
)
RUNGS_BY_NAME = {rung.name: rung for rung in LADDER}


@dataclass(frozen=True)
class Rendition:
    """One output: a rung fitted to a particular source."""

    name: str
    width: int
    height: int
    video_maxrate_k: int
    audio_bitrate_k: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rendition:
        return cls(**data)


def plan(width: int, height: int) -> list[Rendition]:
    """Renditions for a source shown at ``width`` x ``height``, lowest first."""
    short, long_ = min(width, height), max(width, height)
    out: list[Rendition] = []
    for rung in LADDER:
        if rung.short_side <= short:
            scaled = _even(long_ * rung.short_side / short)
            new_short, new_long = rung.short_side, min(scaled, _even_down(long_))
        elif not out:
            # Smaller than the lowest rung: keep the source size, made even.
            new_short, new_long = _even_down(short), _even_down(long_)
        else:
            break
        w, h = (new_long, new_short) if width >= height else (new_short, new_long)
        out.append(Rendition(rung.name, w, h, rung.video_maxrate_k, rung.audio_bitrate_k))
    return out


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def _even_down(value: int) -> int:
    return max(2, value - value % 2)
