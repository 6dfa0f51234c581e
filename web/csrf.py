"""CSRF protection for every unsafe request a browser can send with the session cookie.

Runs inside SessionMiddleware. For POST/PUT/PATCH/DELETE it reads the token from the ``X-CSRF-Token``
header or the ``csrf`` form field (urlencoded or multipart), compares it in constant time with the one in
the signed session, and answers 403 on a mismatch — before any route runs, so no handler (ours, the forms
engine's or a plugin's) can forget the check. The JSON API authenticates with bearer tokens, not cookies,
so its paths are exempt.
"""
from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import CSRF_FIELD, CSRF_HEADER, csrf_ok

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# /api/…, /{county}/api/…, /open311/…, /{county}/open311/…, /{county}/intake/… (plugins' intake channels):
# token-authenticated; /{county}/12345/…: the hotline
# platform signs each work order (HMAC). None of them is ever cookie-authenticated.
EXEMPT = re.compile(r"^/(?:[^/]+/)?(?:api|open311|12345|intake)(?:/|$)")
MAX_BODY = 20 * 1024 * 1024

FORBIDDEN_PAGE = ("<!doctype html><html lang=zh-CN><meta charset=utf-8><title>403</title>"
                  "<p>请求已过期或来源不可信,请返回上一页刷新后重试。(CSRF check failed: reload the page and try again.)"
                  "</p></html>")


class CSRFMiddleware:
    def __init__(self, app: ASGIApp, exempt: re.Pattern[str] = EXEMPT) -> None:
        self.app = app
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE or self.exempt.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        body, too_big = await _read_body(receive)
        if too_big:
            await HTMLResponse("请求过大 (request too large)", status_code=413)(scope, receive, send)
            return
        token = await _submitted_token(scope, body)
        if not csrf_ok(scope.get("session", {}), token):
            await HTMLResponse(FORBIDDEN_PAGE, status_code=403)(scope, receive, send)
            return
        await self.app(scope, _replay(body), send)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks), False


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _submitted_token(scope: Scope, body: bytes) -> str | None:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    if headers.get(CSRF_HEADER):
        return headers[CSRF_HEADER]
    content_type = headers.get("content-type", "")
    if not (content_type.startswith("application/x-www-form-urlencoded")
            or content_type.startswith("multipart/form-data")):
        return None
    request = Request(scope, _replay(body))
    try:
        form: Any = await request.form()
    except Exception:  # noqa: BLE001  (a malformed body simply carries no token)
        return None
    try:
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    finally:
        await form.close()
