"""Every error the API returns is JSON: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from transcoder.errors import InvalidInput, TranscoderError, VideoNotFound

STATUS = {InvalidInput: 422, VideoNotFound: 404}
#: Refusals that are about the request rather than the file's contents.
BAD_REQUEST_CODES = {"no_file", "empty_file"}

HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
HTTP_MESSAGES = {
    413: "The upload is larger than this server accepts.",
    404: "Nothing here.",
}


def error_response(code: str, message: str, status: int):  # type: ignore[no-untyped-def]
    return jsonify({"error": {"code": code, "message": message}}), status


def register(app: Flask) -> None:
    @app.errorhandler(TranscoderError)
    def _ours(exc: TranscoderError):  # type: ignore[no-untyped-def]
        status = 400 if exc.code in BAD_REQUEST_CODES else STATUS.get(type(exc), 500)
        return error_response(exc.code, exc.message, status)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        message = HTTP_MESSAGES.get(status, exc.description or exc.name)
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"The upload is larger than this server accepts ({limit} bytes)."
        return error_response(HTTP_CODES.get(status, "http_error"), message, status)
