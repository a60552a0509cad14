"""Parsing ffmpeg's ``-progress pipe:1 -nostats`` output.

ffmpeg prints ``key=value`` lines and ends each block with ``progress=continue``
or ``progress=end``. The parser is pure so it is tested on recorded blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    out_time_s: float
    frame: int
    fps: float
    #: Media seconds encoded per wall second (ffmpeg's "speed", 1.0 = real time).
    speed: float | None
    done: bool

    def fraction(self, duration_s: float) -> float:
        """Share of the source encoded, 0..1; exactly 1 only when ffmpeg said ``end``."""
        if self.done:
            return 1.0
        if duration_s <= 0:
            return 0.0
        return min(max(self.out_time_s / duration_s, 0.0), 0.999)

    def eta_seconds(self, duration_s: float) -> float | None:
        """Wall seconds left at the current speed, or None while the speed is unknown."""
        if self.done:
            return 0.0
        if not self.speed or self.speed <= 0:
            return None
        return max(duration_s - self.out_time_s, 0.0) / self.speed


def parse_blocks(lines: Iterable[str]) -> Iterator[Progress]:
    """Yield one ``Progress`` per complete block in ``lines``."""
    block: dict[str, str] = {}
    for raw in lines:
        key, sep, value = raw.strip().partition("=")
        if not sep:
            continue
        block[key.strip()] = value.strip()
        if key.strip() == "progress":
            yield _to_progress(block)
            block = {}


def _to_progress(block: dict[str, str]) -> Progress:
    # out_time_us and out_time_ms both hold microseconds; out_time is "HH:MM:SS.micro".
    micros = _number(block.get("out_time_us")) or _number(block.get("out_time_ms"))
    if micros is None:
        micros = _clock_to_us(block.get("out_time", ""))
    speed_text = block.get("speed", "").rstrip("x").strip()
    return Progress(
        out_time_s=max((micros or 0.0) / 1_000_000, 0.0),
        frame=int(_number(block.get("frame")) or 0),
        fps=_number(block.get("fps")) or 0.0,
        speed=_number(speed_text),
        done=block.get("progress") == "end",
    )


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None  # ffmpeg writes "N/A" before it knows
    return value if value == value else None


def _clock_to_us(text: str) -> float | None:
    parts = text.split(":")
    if len(parts) != 3:
        return None
    try:
        hours, minutes, seconds = int(parts[0]), int(parts[1]), float(parts[2])
    except ValueError:
        return None
    return ((hours * 60 + minutes) * 60 + seconds) * 1_000_000
