"""How fast this machine is right now, so the limits that keep trials quick (stall, lease,
how soon a cancel must land) are not fixed seconds that a slower or busier machine misses.

One short encode like a part's (one decode, two x264 renditions) is timed three times;
its median over the time it takes on an idle 2-core machine of ours is the pace (never
below 1). A machine half as fast, or one whose other core is taken by a CPU hog, gets
limits about twice as long; the checks themselves stay the same.
"""

from __future__ import annotations

import functools
import math
import subprocess
import time

#: The median wall time of ``COMMAND`` on an idle 2-core machine of ours (2026-12-04: 0.61 s;
#: 0.72 s with a CPU hog on one core, so the trials' limits were 3.5 s there instead of 3).
REFERENCE_S = 0.6
COMMAND = [
    "ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=3",
    "-filter_complex", "split=2[a][b];[a]scale=854:480[x];[b]scale=640:360[y]",
    "-map", "[x]", "-c:v", "libx264", "-preset", "veryfast", "-f", "null", "-",
    "-map", "[y]", "-c:v", "libx264", "-preset", "veryfast", "-f", "null", "-",
]  # fmt: skip


def _once() -> float:
    began = time.monotonic()
    subprocess.run(COMMAND, check=True, capture_output=True, timeout=300)
    return time.monotonic() - began


@functools.cache
def pace() -> float:
    """This machine's slowness against the reference (1.0 or more), measured once per run."""
    runs = sorted(_once() for _ in range(3))
    return max(1.0, runs[1] / REFERENCE_S)


def scaled(seconds: float) -> float:
    """``seconds`` on the reference machine, as long as it takes here (rounded up to 0.5 s)."""
    return math.ceil(seconds * pace() * 2) / 2
