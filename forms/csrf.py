"""CSRF protection for form posts: a pluggable policy, with a signed double-submit cookie by default.

The portal that mounts the forms routes can pass its own :class:`CsrfPolicy` (e.g. one bound to its
session); standalone, the forms app sets a random cookie and puts a signed copy of it in the page.
A cross-site page can make the browser send the cookie but can neither read it nor forge the
signature, so a post whose field does not match its cookie is refused.
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Protocol

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import Response


class CsrfPolicy(Protocol):
    field_name: str

    def token(self, request: Request) -> tuple[str, str | None]:
        """(token for the page, cookie value to set or None)."""

    def check(self, request: Request, token: str | None) -> bool: ...

    def set_cookie(self, response: Response, cookie: str | None) -> None: ...


@dataclass(frozen=True)
class SignedDoubleSubmit:
    secret: str
    cookie_name: str = "wg_csrf"
    field_name: str = "_csrf"
    secure: bool = False  # True behind HTTPS

    def _signer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt="wangge-forms-csrf")

    def token(self, request: Request) -> tuple[str, str | None]:
        cookie = request.cookies.get(self.cookie_name)
        fresh = None
        if not cookie or len(cookie) > 100:
            cookie = fresh = secrets.token_urlsafe(24)
        return self._signer().dumps(cookie), fresh

    def check(self, request: Request, token: str | None) -> bool:
        cookie = request.cookies.get(self.cookie_name)
        if not cookie or not token:
            return False
        try:
            signed = self._signer().loads(token)
        except BadSignature:
            return False
        return isinstance(signed, str) and hmac.compare_digest(signed, cookie)

    def set_cookie(self, response: Response, cookie: str | None) -> None:
        if cookie:
            response.set_cookie(self.cookie_name, cookie, httponly=True, samesite="lax", secure=self.secure,
                                path="/")
