"""Every error the API returns is JSON: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from transcoder.errors import InvalidInput, TranscoderError

from .middleware.bodies import body_limit

#: Status by error code; otherwise a refused upload is 422 and anything else 500.
CODE_STATUS = {
    "no_file": 400,
    "empty_file": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "bad_host": 400,
    "bad_name": 400,
    "bad_role": 400,
    "user_not_found": 404,
    "sign_in_failed": 401,
    "quota_exceeded": 413,
    "upload_too_slow": 408,
    "bad_event_id": 400,
    "not_found": 404,
    "conflict": 409,
    "too_many_videos": 400,
    "bad_cursor": 400,
    "bad_filter": 400,
    "bad_request": 400,
    "too_many_live_streams": 429,
    "unavailable": 503,
    "storage_unreachable": 503,
    "database_unavailable": 503,
    # tus (web.uploads): the statuses the protocol names.
    "bad_tus_header": 400,
    "upload_expired": 410,
    "upload_busy": 423,
    "too_many_uploads": 429,
    "offset_mismatch": 409,
    "checksum_mismatch": 460,
    "too_large": 413,
    "unsupported_media_type": 415,
    "unsupported_tus_version": 412,
}
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
HTTP_MESSAGES = {404: "Nothing here."}


def error_response(code: str, message: str, status: int) -> tuple[Response, int]:
    response = jsonify({"error": {"code": code, "message": message}})
    if status == 408:  # the rest of the body is not waited for
        response.headers["Connection"] = "close"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="transcoder"'
    return response, status


def init_app(app: Flask) -> None:
    @app.errorhandler(TranscoderError)
    def _ours(exc: TranscoderError) -> tuple[Response, int]:
        status = CODE_STATUS.get(exc.code) or (422 if isinstance(exc, InvalidInput) else 500)
        return error_response(exc.code, exc.message, status)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        message = HTTP_MESSAGES.get(status, exc.description or exc.name)
        if status == 413:
            limit = body_limit()
            message = (
                f"The upload is larger than this server accepts ({limit} bytes)."
                if limit == app.config.get("MAX_CONTENT_LENGTH")
                else f"This route takes no file: its body may be at most {limit} bytes."
            )
        return error_response(HTTP_CODES.get(status, "http_error"), message, status)
