"""Shared handler plumbing: turning :class:`ApiError` into JSON, JSON responses, grid subtrees."""
from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wangge.core.pack.model import Pack

from .errors import ApiError, error_response


def api(fn: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Answer every :class:`ApiError` raised by ``fn`` with its JSON error body."""

    @functools.wraps(fn)
    async def wrapper(request: Request) -> Response:
        try:
            return await fn(request)
        except ApiError as exc:
            return error_response(exc)

    return wrapper


class UnicodeJSON(JSONResponse):
    """JSON with Chinese kept readable (``ensure_ascii=False``), as the portal and curl users expect."""

    def render(self, content: Any) -> bytes:
        import json

        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def subtree(pack: Pack, code: str) -> list[str]:
    """``code`` and every unit below it."""
    out, stack = [], [code]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(pack.grid.children.get(current, ()))
    return out
