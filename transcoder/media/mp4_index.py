"""How many pictures an MP4 holds, read from its index (``moov``) without decoding anything.

The join checks every rendition it makes against the frames its parts encoded. Reading
the count here, from the boxes, costs a few reads of the file; asking ffprobe cost a
process per rendition, which on a short video weighed as much as encoding its sound.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from transcoder.errors import StorageError


def video_frames(path: Path | str) -> int:
    """The number of samples of the first video track (``hdlr`` of type ``vide``)."""
    with open(path, "rb") as fh:
        moov = _find_top(fh, b"moov")
        if moov is None:
            raise StorageError("The joined MP4 has no index (moov box).")
        for trak in _children(moov, b"trak"):
            mdia = next(_children(trak, b"mdia"), None)
            if mdia is None:
                continue
            handler = next(_children(mdia, b"hdlr"), b"")
            if handler[8:12] != b"vide":
                continue
            for stbl in _path(mdia, (b"minf", b"stbl")):
                sizes = next(_children(stbl, b"stsz"), None) or next(_children(stbl, b"stz2"), None)
                if sizes is not None and len(sizes) >= 12:
                    return struct.unpack(">I", sizes[8:12])[0]
    raise StorageError("The joined MP4 has no video track.")


def _find_top(fh: BinaryIO, name: bytes) -> bytes | None:
    """The payload of the first top-level box called ``name``, skipping over the others."""
    while True:
        header = fh.read(8)
        if len(header) < 8:
            return None
        size, kind = struct.unpack(">I4s", header)
        skip = size - 8
        if size == 1:
            skip = struct.unpack(">Q", fh.read(8))[0] - 16
        elif size == 0:
            return fh.read() if kind == name else None
        if kind == name:
            return fh.read(skip)
        fh.seek(skip, 1)


def _children(payload: bytes, name: bytes) -> Iterator[bytes]:
    """The payloads of the boxes called ``name`` directly inside ``payload``."""
    at = 0
    while at + 8 <= len(payload):
        size, kind = struct.unpack(">I4s", payload[at : at + 8])
        head = 8
        if size == 1:
            size, head = struct.unpack(">Q", payload[at + 8 : at + 16])[0], 16
        elif size == 0:
            size = len(payload) - at
        if size < head:
            return
        if kind == name:
            yield payload[at + head : at + size]
        at += size


def _path(payload: bytes, names: tuple[bytes, ...]) -> Iterator[bytes]:
    if not names:
        yield payload
        return
    for child in _children(payload, names[0]):
        yield from _path(child, names[1:])
