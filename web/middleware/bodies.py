"""How large a request's body may be, set per route before anything reads it.

A body is read only by the view (or, for a page's small form, the CSRF check) that
needs it; everything that can refuse a request without it (who it is, the host, the
origin, the CSRF token sent in a header) answers first. Only ``POST /api/videos`` and the
resumable uploads' ``POST`` and ``PATCH`` take a file, as large as
``TRANSCODER_MAX_UPLOAD_BYTES``; every other route takes at most
64 KiB (a sign-in form, a key's name, a JSON body), so a 200 MiB "sign-in" is never
parsed, nor spooled to a temporary file.

A body past its route's limit is refused (413 ``too_large``) from its ``Content-Length``
here, before it is read. A body that states no length (chunked) is counted as it is read
and refused as soon as it passes the limit. Not Werkzeug's own cap for it
(``request.max_content_length``): that one stops reading at the limit without a word,
so a JSON or url-encoded body would be parsed cut short, and refused, or worse taken,
for a reason that is not its size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

#: What a route that takes no file accepts: a form or JSON body, never a file.
SMALL_BODY = 64 * 1024
#: The endpoints that take a file; their bodies may be as large as MAX_CONTENT_LENGTH.
TAKES_FILE = frozenset({"api.upload", "uploads.create", "uploads.append"})
PIECE = 64 * 1024
MiB = 1024 * 1024


def init_app(app: Flask, max_upload_bytes: int) -> None:
    """Registered before every other ``before_request`` hook, so no check that reads a
    body (the CSRF check of a page's form) runs without its limit."""
    app.config["MAX_CONTENT_LENGTH"] = max_upload_bytes

    @app.before_request
    def _body_limit() -> None:
        limit_body()


def limit_body() -> None:
    """Set this request's body limit from its route; refuse at once a body whose
    ``Content-Length`` passes it, and count one that states no length as it is read."""
    limit = current_app.config["MAX_CONTENT_LENGTH"] if request.endpoint in TAKES_FILE else SMALL_BODY
    g.body_limit = request.max_content_length = limit
    length = request.content_length
    if limit is None:
        return
    if length is not None:
        if length > limit:
            raise RequestEntityTooLarge()
    elif "chunked" in request.environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        request.environ["wsgi.input"] = CappedInput(request.environ["wsgi.input"], limit)
        request.max_content_length = None  # the count above is the limit (see the docstring)


def tighten(limit: int, refusal: Callable[[int], Exception]) -> None:
    """Lower this request's limit once its route knows more, still before anything reads
    the body: a resumable upload's PATCH takes at most what is left of the upload (known
    only once its user and upload are). A ``Content-Length`` past it is refused now, with
    ``refusal(length)``; a body that states no length is counted by its route as it is
    read (``transcoder.uploads.resumable`` keeps nothing past the upload's length)."""
    g.body_limit = limit
    length = request.content_length
    if length is not None and length > limit:
        raise refusal(length)


def body_limit() -> int | None:
    """The largest body this request's route takes (for the refusal's message)."""
    return g.get("body_limit", current_app.config.get("MAX_CONTENT_LENGTH"))


def count_upload(check: Callable[[int], None]) -> None:
    """For an upload that states no length: ``check`` is called with the bytes received so
    far while they arrive (an eighth more each time, at least every MiB), so a quota
    refuses the body as it passes it, not once it was read whole (``check`` raises). An
    upload with a ``Content-Length`` is weighed from it before reading; nothing to do."""
    stream = request.environ.get("wsgi.input")
    if isinstance(stream, CappedInput):
        stream.check = check


class CappedInput:
    """A body that states no length: 413 as soon as more than ``limit`` bytes of it arrive;
    and, for an upload, its running count handed to a check (``count_upload``)."""

    def __init__(self, stream: Any, limit: int) -> None:
        self.stream, self.limit, self.count = stream, limit, 0
        self.check: Callable[[int], None] | None = None
        self.checked_at = 0

    def _counted(self, data: bytes) -> bytes:
        self.count += len(data)
        if self.count > self.limit:
            raise RequestEntityTooLarge()
        if self.check is not None and self.count - self.checked_at >= max(MiB, self.checked_at // 8):
            self.checked_at = self.count
            self.check(self.count)
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size >= 0:
            return self._counted(self.stream.read(size))
        pieces = []
        while piece := self.stream.read(PIECE):  # in pieces: stops once past the limit
            pieces.append(self._counted(piece))
        return b"".join(pieces)

    def readline(self, size: int | None = -1) -> bytes:
        room = self.limit + 1 - self.count
        return self._counted(self.stream.readline(room if size is None or size < 0 else min(size, room)))

    def __iter__(self) -> CappedInput:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line
