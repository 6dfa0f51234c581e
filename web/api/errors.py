"""API errors: one JSON shape for every failure, with a Chinese message first and English after it.

``{"error": {"code": "VALIDATION", "message": "…", "fields": {"class": "…"}}}`` — ``fields`` appears only
when specific input fields are wrong, so a client can put each message next to its own input box.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse


class ApiError(Exception):
    """Raised by handlers; turned into a JSON response by :func:`error_response`."""

    def __init__(self, status: int, code: str, message: str, fields: Mapping[str, str] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


def error_body(code: str, message: str, fields: Mapping[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = dict(fields)
    return {"error": body}


def error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(error_body(exc.code, exc.message, exc.fields), status_code=exc.status,
                        headers=exc.headers or None)


def unauthorized(message: str) -> ApiError:
    # RFC 6750: a missing or bad bearer token is 401 with a WWW-Authenticate challenge.
    return ApiError(401, "UNAUTHORIZED", message, headers={"WWW-Authenticate": 'Bearer realm="wangge"'})


def forbidden(message: str) -> ApiError:
    return ApiError(403, "FORBIDDEN", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


def invalid(fields: Mapping[str, str], message: str = "请求内容有误 (invalid request)") -> ApiError:
    return ApiError(422, "VALIDATION", message, fields)


def bad_json() -> ApiError:
    return ApiError(400, "BAD_JSON", "请求体不是有效的 JSON (the request body is not valid JSON)")
