"""Every frame's time in a source, read from its packets without decoding.

The planner cuts a video at exact frames, and some files state no duration at
all (a recording streamed from a browser, a live capture): the packet list gives
both, in about the time it takes to read the file once.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from transcoder.errors import InvalidInput
from transcoder.media import policy

SCAN_TIMEOUT_S = 300


@dataclass(frozen=True)
class Frames:
    """Presentation times of the video frames (seconds from the file's start, ascending),
    and the indices of those that are keyframes in the source."""

    times: tuple[float, ...]
    keyframes: frozenset[int]

    @property
    def duration(self) -> float:
        """From the first frame to the end of the last (its length taken as the typical gap)."""
        if not self.times:
            return 0.0
        if len(self.times) == 1:
            return 0.04
        gaps = sorted(b - a for a, b in zip(self.times, self.times[1:], strict=False))
        return self.times[-1] + gaps[len(gaps) // 2]


def scan_args(path: Path | str, stream: int) -> list[str]:
    return [*policy.ffprobe_head(source=path), "-select_streams", str(stream),
            "-show_entries", "packet=pts_time,dts_time,flags", "-of", "csv=p=0",
            policy.local_input(path)]  # fmt: skip


def parse_packets(text: str, start_time: float = 0.0) -> Frames:
    """ffprobe's ``pts_time,dts_time,flags`` lines (in decode order) as ``Frames``.

    A packet with no presentation time takes its decode time; packets with neither
    are not frames we can place, and are left out.
    """
    found: list[tuple[float, bool]] = []
    for line in text.splitlines():
        fields = line.strip().split(",")
        if len(fields) < 3:
            continue
        pts, dts, flags = fields[0], fields[1], fields[2]
        value = pts if pts not in ("", "N/A") else dts
        if value in ("", "N/A"):
            continue
        found.append((float(value) - start_time, "K" in flags))
    found.sort(key=lambda f: f[0])
    times = tuple(round(t, 6) for t, _ in found)
    return Frames(times, frozenset(i for i, (_, key) in enumerate(found) if key))


def scan(path: Path | str, stream: int, start_time: float, timeout: float = SCAN_TIMEOUT_S) -> Frames:
    """The frames of the chosen video stream; refuses a file whose stream holds none."""
    try:
        done = subprocess.run(
            scan_args(path, stream), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise InvalidInput("Reading this file took too long; it may be damaged.", code="not_a_video") from exc
    frames = parse_packets(done.stdout.decode("ascii", "replace"), start_time)
    if done.returncode != 0 or not frames.times:
        raise InvalidInput("The video track holds no frames we can read.", code="not_a_video")
    return frames
