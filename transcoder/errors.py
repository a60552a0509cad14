"""Every exception this project raises on purpose, in one place (as dramatiq's ``errors``).

Each carries a machine-readable ``code`` and a message a person can act on, so
the API, the job record and the CLI can all show the same sentence.
"""

from __future__ import annotations

from typing import TypedDict


class ErrorInfo(TypedDict):
    """Why something failed, as the API shows it and a video's document keeps it."""

    code: str
    message: str


class TranscoderError(Exception):
    """Base of every error this project raises on purpose."""

    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_dict(self) -> ErrorInfo:
        return {"code": self.code, "message": self.message}


class ConfigError(TranscoderError):
    """Raised when a TRANSCODER_* setting has a value we cannot use."""

    code = "bad_setting"


class InvalidInput(TranscoderError):
    """Raised when an upload is not something we can transcode; the user must send another file."""

    code = "invalid_input"


class FfmpegFailed(TranscoderError):
    """Raised when ffmpeg exits non-zero; keeps the tail of its stderr for the operator."""

    code = "encode_failed"

    def __init__(self, message: str, *, returncode: int, stderr_tail: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr_tail = stderr_tail


class VideoNotFound(TranscoderError):
    """Raised when a video id names nothing we store."""

    code = "not_found"


class StorageError(TranscoderError):
    """Raised when a stored object is missing or cannot be written."""

    code = "storage_error"


class StoredFileMissing(StorageError):
    """Raised when a stored object is not there (to a worker a storage error like any other;
    to the web app a 404, since a client can name files that do not exist)."""


class Transient(TranscoderError):
    """Raised for failures worth retrying: the input was fine, the moment was not."""

    code = "transient"


class EncoderKilled(Transient):
    """Raised when ffmpeg was killed by a signal we did not send (out of memory, an operator)."""

    code = "encoder_killed"


class Stalled(Transient):
    """Raised when ffmpeg stopped reporting progress and the watchdog killed it."""

    code = "encoder_stalled"


class Canceled(TranscoderError):
    """Raised inside a task whose video was canceled while it ran."""

    code = "canceled"


class LeaseLost(TranscoderError):
    """Raised inside a run whose part another run has taken over; it must record nothing."""

    code = "lease_lost"


class Unavailable(TranscoderError):
    """Raised when Redis or storage cannot be reached; the request may be tried again later."""

    code = "unavailable"


class CatalogUnavailable(Unavailable):
    """Raised when the database cannot be reached; nothing was changed, try again later."""

    code = "database_unavailable"


class Conflict(TranscoderError):
    """Raised when a request does not fit the video's state (retrying one that did not fail)."""

    code = "conflict"


class TooManyLiveStreams(TranscoderError):
    """Raised when one client already holds as many open event streams as it may."""

    code = "too_many_live_streams"


class TooManyVideos(TranscoderError):
    """Raised when one stream asks to follow more videos than a stream may."""

    code = "too_many_videos"


class Unauthorized(TranscoderError):
    """Raised when the API is called without a valid key or page session."""

    code = "unauthorized"


class Forbidden(TranscoderError):
    """Raised for a cross-origin post or a session request without its CSRF token."""

    code = "forbidden"


class BadHost(TranscoderError):
    """Raised for a request to a host name the operator did not allow."""

    code = "bad_host"


class UploadTooSlow(TranscoderError):
    """Raised when an upload's body arrives slower than the least rate allowed."""

    code = "upload_too_slow"


class UserNotFound(TranscoderError):
    code = "user_not_found"


class KeyNotFound(TranscoderError):
    code = "not_found"


class SignInFailed(TranscoderError):
    """Raised for a wrong name or password (which of the two is never said)."""

    code = "sign_in_failed"


class QuotaExceeded(TranscoderError):
    """Raised for an upload that would take its user past a quota; says what is used and
    what is allowed."""

    code = "quota_exceeded"


class UploadNotFound(TranscoderError):
    """Raised when a resumable upload's id names nothing of this user's."""

    code = "not_found"


class UploadGone(TranscoderError):
    """Raised for a resumable upload past its expiry: its bytes are (or will be) removed."""

    code = "upload_expired"


class UploadBusy(TranscoderError):
    """Raised when another request is writing this resumable upload's bytes right now."""

    code = "upload_busy"


class TooManyUploads(TranscoderError):
    """Raised for a resumable upload created past ``TRANSCODER_UPLOADS_UNDER_WAY`` unfinished
    ones of its user: each holds a row, bytes and quota until it ends or expires."""

    code = "too_many_uploads"


class OffsetMismatch(TranscoderError):
    """Raised for a PATCH whose Upload-Offset is not where the upload stands."""

    code = "offset_mismatch"


class ChecksumMismatch(TranscoderError):
    """Raised when a PATCH's body does not match its Upload-Checksum (it was dropped)."""

    code = "checksum_mismatch"


class PastUploadLength(TranscoderError):
    """Raised for a body that would take a resumable upload past its Upload-Length, or one
    longer than this server accepts (nothing past the length is kept)."""

    code = "too_large"


class UnsupportedMediaType(TranscoderError):
    """Raised for a tus PATCH whose body is not application/offset+octet-stream."""

    code = "unsupported_media_type"


class UnsupportedVersion(TranscoderError):
    """Raised for a tus request that does not speak tus 1.0.0."""

    code = "unsupported_tus_version"


class ApiError(TranscoderError):
    """Raised when the server answers with an error; carries its code and message."""


class RetryLater(Exception):
    """Raised to a task when its part failed for a passing reason and was queued again."""

    def __init__(self, countdown: float, reason: TranscoderError) -> None:
        super().__init__(reason.message)
        self.countdown = countdown
        self.reason = reason
