"""Cutting a video's work into parts: pure, from the source's frame list.

A part is a time range of the video times a set of renditions, decoded once and
encoded into all of them. Two shapes:

- ``chunks`` (the default): time chunks with every rendition each, so one long
  video is spread over every idle worker. The first chunk is short, so the
  video plays soon; the others are sized so a video gives several workers work
  without any part being too small to be worth its start-up. Boundaries fall
  on source keyframes where one is near, so no part decodes frames it throws away.
- ``renditions``: one part per rendition over the whole video (one task per rendition).

The sound is encoded once for the whole video (per-chunk AAC clicks and drifts
at every seam), one part per bitrate the ladder uses, so the lowest, which
playback starts with, is ready soonest; a last ``join`` part, run when every
other part is ready, makes each rendition's MP4 and the storyboard.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import TypedDict

from transcoder.media.frames import Frames
from transcoder.media.previews import StoryboardLayout

#: The first chunk's length: half an HLS segment, so playback can start as soon as it is
#: encoded (about a second of work for 1080p on two cores). It ends on a source keyframe only
#: if one is this close to it: a later one would keep playback waiting.
FIRST_CHUNK_S = 2.0
FIRST_CHUNK_WINDOW_S = 0.5
#: Shortest and longest chunk, and how many chunks a video aims for between them.
MIN_CHUNK_S = 8.0
MAX_CHUNK_S = 60.0
TARGET_CHUNKS = 12
#: Niceness of every ffmpeg but the urgent ones: on a busy machine the sound and the first
#: chunk are encoded first, so the video plays sooner; the total work is the same.
LATER_NICENESS = 10
#: A video shorter than this is one part with all renditions: below it, a second chunk's
#: start-up and its decode from the keyframe before it cost more (about a tenth of a 10 s
#: 1080p clip's CPU) than playing a second or two sooner is worth.
ONE_PART_BELOW_S = 12.0
JOIN = "join"


class _PlannedPart(TypedDict):
    id: str
    kind: str
    #: ``Part.renditions``, under the name clients read.
    rungs: list[str]
    first: int
    start: float
    frames: int
    seek: float | None
    seconds: float
    tiles: list[int]
    poster_at: float | None
    after: list[str]


class PartDict(_PlannedPart, total=False):
    """A ``Part`` as a video's document holds it (and ``GET /api/videos/<id>/parts`` shows it).
    The keys here a part planned by an older release may lack (``Part.from_dict`` gives
    their defaults); a TypedDict of its own, as ``NotRequired`` is not seen at run time
    under ``from __future__ import annotations``."""

    urgent: bool
    bitrate_k: int
    keyframe_seek: float | None


@dataclass(frozen=True)
class Part:
    """One unit of work. Times are seconds from the start of the file."""

    id: str
    kind: str  # "video", "audio" or "join"
    #: The names of the renditions it makes (``rungs`` in the document and the API, which
    #: clients read, so that field keeps its name).
    renditions: tuple[str, ...] = ()
    #: The first frame's index and time, and how many frames the part encodes.
    first: int = 0
    start: float = 0.0
    frames: int = 0
    #: Where the part begins: halfway between the frame before and the first one (every frame
    #: before it is dropped).
    seek: float | None = None
    #: Seconds of video this part covers (progress is weighted by it).
    seconds: float = 0.0
    #: Storyboard tiles this part makes: the first tile's number, how many, and the first's time.
    tiles: tuple[int, int] = (0, 0)
    #: Seconds after ``start`` where the poster search begins, if this part makes the poster.
    poster_at: float | None = None
    after: tuple[str, ...] = field(default=())
    #: What playback waits for (the lowest sound, the first picture part): its ffmpeg has the CPU first.
    urgent: bool = False
    #: The sound's bitrate, for a part of the sound.
    bitrate_k: int = 0
    #: Where the demuxer is sent: halfway from the source keyframe at or before the first
    #: frame to the next, so decoding starts at that keyframe. Seeking to ``seek`` instead lands
    #: on the keyframe *before* a part that starts on one, and decodes a whole group of frames
    #: for nothing. None: no keyframe is known (or a part planned before this existed).
    keyframe_seek: float | None = None

    def to_dict(self) -> PartDict:
        return PartDict(
            id=self.id,
            kind=self.kind,
            first=self.first,
            start=self.start,
            frames=self.frames,
            seek=self.seek,
            seconds=self.seconds,
            tiles=list(self.tiles),
            poster_at=self.poster_at,
            after=list(self.after),
            urgent=self.urgent,
            bitrate_k=self.bitrate_k,
            keyframe_seek=self.keyframe_seek,
            rungs=list(self.renditions),
        )

    @classmethod
    def from_dict(cls, entry: PartDict) -> Part:
        """The part as planned, from its entry in a video's document (which holds its state too)."""
        first_tile, tile_count = entry["tiles"]
        return cls(
            entry["id"],
            entry["kind"],
            tuple(entry["rungs"]),
            entry["first"],
            entry["start"],
            entry["frames"],
            entry["seek"],
            entry["seconds"],
            (first_tile, tile_count),
            entry["poster_at"],
            tuple(entry["after"]),
            # A part planned by an older release lacks these: they keep their defaults.
            entry.get("urgent", False),
            entry.get("bitrate_k", 0),
            entry.get("keyframe_seek"),
        )


def audio_id(bitrate_k: int) -> str:
    """The sound at one bitrate: a part's id, its HLS audio group, its folder (``a64``)."""
    return f"a{bitrate_k}"


def chunk_seconds(duration: float, configured: float = 0.0) -> float:
    """The chunk length: configured, or about ``duration / TARGET_CHUNKS`` within bounds, in
    whole 4 s HLS segments."""
    wanted = configured if configured > 0 else min(max(duration / TARGET_CHUNKS, MIN_CHUNK_S), MAX_CHUNK_S)
    return max(4.0, int(wanted / 4 + 0.5) * 4.0)


def plan(
    frames: Frames,
    renditions: list[str],
    storyboard: StoryboardLayout,
    *,
    audio_bitrates: list[int],
    shape: str = "chunks",
    chunk_s: float = 0.0,
    poster_at: float = 0.0,
) -> list[Part]:
    """The parts of one video, in the order they should start (playable soonest, then ready
    soonest)."""
    duration = frames.duration
    if shape == "renditions":
        ranges = [(0, len(frames.times))]
        video = [
            _range_part(f"v{i:02d}", (name,), ranges[0], frames, duration)
            for i, name in enumerate(renditions)
        ]
    else:
        ranges = cut(frames, chunk_seconds(duration, chunk_s))
        video = [
            _range_part(f"v{i:02d}", tuple(renditions), r, frames, duration) for i, r in enumerate(ranges)
        ]
    video = _with_previews(video, frames, storyboard, poster_at, duration)
    video[0] = replace(video[0], urgent=True)
    sound = [Part(audio_id(k), "audio", seconds=duration, urgent=i == 0, bitrate_k=k)
             for i, k in enumerate(sorted(set(audio_bitrates)))]  # fmt: skip
    # What playback waits for first; then the long parts, while every worker is free; the
    # higher sounds, short, last: they fill the gaps as the last chunks end, rather than
    # holding back a chunk that would then run alone at the end.
    parts = [*sound[:1], video[0], *video[1:], *sound[1:]]
    return [*parts, Part(JOIN, "join", tuple(renditions), after=tuple(p.id for p in parts))]


def cut(frames: Frames, chunk_s: float) -> list[tuple[int, int]]:
    """Frame ranges ``[first, end)`` of the chunks: a short first one, then ``chunk_s`` each,
    each starting at a source keyframe near its target if there is one."""
    times, count = frames.times, len(frames.times)
    duration = frames.duration
    if duration < ONE_PART_BELOW_S:
        return [(0, count)]
    starts, target, tail = [0], FIRST_CHUNK_S, duration - MIN_CHUNK_S / 2
    while target < tail:
        # The first chunk keeps its length (playback waits for it); the others start on a
        # source keyframe up to half a chunk away, as decoding from the keyframe before a
        # boundary costs more than a chunk of uneven length.
        index = _boundary(frames, target, FIRST_CHUNK_WINDOW_S if len(starts) == 1 else chunk_s / 2)
        if index <= starts[-1]:  # the nearest keyframe is the chunk's own start: cut at the target
            index = _first_at(times, target)
        if index <= starts[-1] or times[index] >= tail:
            break  # what is left is too short for a chunk of its own
        starts.append(index)
        target = times[index] + chunk_s
    return [(a, b) for a, b in zip(starts, [*starts[1:], count], strict=True)]


def _boundary(frames: Frames, target: float, window: float) -> int:
    """The frame nearest ``target`` to start a chunk at: the closest source keyframe in the
    window, else the first frame at or after the target."""
    times = frames.times
    near = [i for i in frames.keyframes if abs(times[i] - target) <= window and i > 0]
    return min(near, key=lambda i: abs(times[i] - target)) if near else _first_at(times, target)


def _first_at(times: tuple[float, ...], target: float) -> int:
    return next((i for i, t in enumerate(times) if t >= target - 1e-6), len(times) - 1)


def _range_part(
    part_id: str, renditions: tuple[str, ...], span: tuple[int, int], frames: Frames, duration: float
) -> Part:
    first, end = span
    times = frames.times
    start = times[first]
    stop = times[end] if end < len(times) else duration
    seek = None if first == 0 else (times[first - 1] + start) / 2
    landing = None if first == 0 else keyframe_seek(frames, first)
    return Part(
        part_id, "video", renditions, first, start, end - first, seek, stop - start, keyframe_seek=landing
    )


def keyframe_seek(frames: Frames, first: int) -> float | None:
    """Where to seek so the demuxer lands on the last source keyframe at or before frame
    ``first``: halfway to the keyframe after it (ffmpeg moves a seek back a little for streams
    with B-frames, and the index holds decode times, so the point must not be the keyframe's own
    time). None when no keyframe is known before ``first``."""
    before = [k for k in frames.keyframes if k <= first]
    if not before:
        return None
    landing = max(before)
    after = [k for k in frames.keyframes if k > landing]
    end = frames.times[min(after)] if after else frames.duration
    return round((frames.times[landing] + end) / 2, 6)


def _with_previews(
    parts: list[Part], frames: Frames, storyboard: StoryboardLayout, poster_at: float, duration: float
) -> list[Part]:
    """Give each chunk the storyboard tiles that fall in it, and the poster to the one holding
    ``poster_at``; in the ``renditions`` shape the first part makes them all."""
    out = []
    chunked = len({p.start for p in parts}) == len(parts)
    for index, part in enumerate(parts):
        if not chunked and index > 0:
            out.append(part)
            continue
        # The first part also covers any time before its first frame (the sound may start
        # earlier), the last any time after its last.
        begin = -1.0 if index == 0 else part.start - 1e-6
        end = part.start + part.seconds if chunked and index < len(parts) - 1 else float("inf")
        tiles = [i for i in range(storyboard.count) if begin <= i * storyboard.interval < end]
        holds_poster = begin <= poster_at < end
        out.append(
            Part(
                **{
                    **asdict(part),
                    "tiles": (tiles[0], len(tiles)) if tiles else (0, 0),
                    "poster_at": max(0.0, poster_at - part.start) if holds_poster else None,
                }
            )
        )
    return out


def poster_time(duration: float) -> float:
    """Where the poster search starts: a little way in, past a fade-in."""
    return round(min(duration * 0.1, 60.0), 3) if duration >= 2 else 0.0
