"""A video's document, typed: the shape of the JSON kept in Redis and in the catalog.

A video is one JSON document (``transitions`` changes it, ``videos`` stores it). These
TypedDicts describe it for the type checker only: at run time a document is still a plain
dict, so what is stored, and what clients read, is exactly as before. A key mistyped
anywhere in the core (``entry["rugns"]``) fails ``make lint`` rather than a video.

Each part and rendition entry extends what the planner and the ladder made
(``PartDict``, ``RenditionDict``) with its state. Keys marked ``NotRequired`` may be
missing from documents written by an earlier release, or are added after creation.
"""

# No ``from __future__ import annotations`` here: ``NotRequired`` must be read at run time
# for ``__optional_keys__`` to be right (tests/unit/records/test_document.py reads them).
from typing import Any, NotRequired, TypedDict

from transcoder.errors import ErrorInfo
from transcoder.media.ladder import RenditionDict
from transcoder.media.planner import PartDict
from transcoder.media.previews import StoryboardLayoutDict
from transcoder.media.probe import MediaInfoDict


class Written(TypedDict):
    """The HLS output of one part for one rendition (or one sound), checked complete."""

    init_md5: str
    #: The hash of the init segment's sample description: parts joined must share it.
    stsd_md5: str
    #: [file name, seconds, bytes] of each media segment, in order.
    segments: list[list[Any]]
    #: The RFC 6381 codecs string of a picture rendition (the sound's is fixed).
    codecs: NotRequired[str]


class PartResults(TypedDict, total=False):
    """What a finished part produced; each kind of part fills its own keys."""

    #: Pictures and sound: what each rendition (or the sound, under its part id) got.
    renditions: dict[str, Written]
    #: Pictures: the frames ffmpeg encoded, the storyboard tiles, whether it made the poster.
    encoded_frames: int
    tiles: list[str]
    poster: bool
    #: The join: the storyboard's layout (None when it could not be made).
    storyboard: StoryboardLayoutDict | None
    sprite_cpu_seconds: float
    cpu_seconds: float


class PartEntry(PartDict):
    """One part in the document: as planned, then its state, attempts and results."""

    state: str
    progress: float
    fps: float | None
    eta_seconds: float | None
    error: ErrorInfo | None
    attempts: int
    #: Starts given back because storage was out of reach (they say nothing of the input).
    outages: int
    worker: str | None
    started_at: float | None
    finished_at: float | None
    retry_at: float | None
    last_error: ErrorInfo | None
    #: False while it waits for the parts it comes after.
    released: bool
    results: PartResults | None


class RenditionSummary(TypedDict):
    """A rendition's state, summed up from its parts after every change (``summary``)."""

    state: str
    progress: float
    fps: float | None
    eta_seconds: float | None
    error: ErrorInfo | None


class RenditionEntry(RenditionDict, RenditionSummary):
    """One rendition in the document: its size, and a summary of its parts."""


class Previews(TypedDict):
    """The poster and storyboard: the join's state and what it made."""

    state: str
    error: ErrorInfo | None
    storyboard: StoryboardLayoutDict | None


class Video(TypedDict):
    """A video: one upload and everything made from it."""

    id: str
    state: str
    error: ErrorInfo | None
    filename: str
    created_at: float
    finished_at: float | None
    #: Bumped by every change; the catalog and the live streams keep only newer ones.
    seq: int
    source: MediaInfoDict
    renditions: list[RenditionEntry]
    previews: Previews
    parts: list[PartEntry]
    #: Where the storyboard's tiles fall (the key keeps the name stored documents carry).
    storyboard_plan: NotRequired[StoryboardLayoutDict]
    #: The user it belongs to, by id and by name (absent from videos recorded before accounts).
    owner: NotRequired[str | None]
    owner_name: NotRequired[str | None]
    #: Bytes it keeps in storage: the source, then with its outputs once it has ended.
    stored_bytes: NotRequired[int]
    #: The sha256 of the uploaded bytes (absent from videos recorded before it was kept).
    source_sha256: NotRequired[str]
    #: The content key it was admitted under (``transcoder.work.reuse``; absent with DEDUPE=off).
    reuse_key: NotRequired[str]
    #: The video whose folder holds its files, when not its own (it reuses that one's outputs).
    files_from: NotRequired[str]
    #: The video it waits for while that one encodes the same bytes (a follower sends no parts).
    follows: NotRequired[str]
