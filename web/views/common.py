"""What every page needs: the county of the path, its current pack, the signed-in actor, rendering."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from jinja2 import Environment
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from wangge.core.pack.model import Pack

from ..auth import Actor, actor_for, csrf_token, get_user
from ..deployment import County, Deployment

SESSION_USERS = "u"  # session key: {county slug: username} — one login per county, never shared


@dataclass(frozen=True)
class Page:
    """One request seen by a county page: the county, its pack in force, and who is asking (if anyone)."""

    request: Request
    deployment: Deployment
    county: County
    pack: Pack
    actor: Actor | None

    @property
    def slug(self) -> str:
        return self.county.slug

    @property
    def db(self):  # type: ignore[no-untyped-def]
        return self.deployment.database

    def url(self, path: str = "") -> str:
        return f"/{self.slug}/{path}"


def deployment_of(request: Request) -> Deployment:
    return request.app.state.deployment


def env_of(request: Request) -> Environment:
    return request.app.state.templates


def page(request: Request) -> Page:
    """The county named in the path (404 when unknown) and the actor signed into it, if any."""
    deployment = deployment_of(request)
    county = deployment.county(request.path_params["county"])
    if county is None:
        raise HTTPException(404, "没有这个县区 (no such county)")
    pack = deployment.pack(county.slug)
    actor = None
    username = request.session.get(SESSION_USERS, {}).get(county.slug)
    if username:
        user = get_user(deployment.database, county.slug, username)
        actor = actor_for(pack, user) if user else None
    return Page(request, deployment, county, pack, actor)


class LoginRequired(Exception):
    def __init__(self, slug: str, next_path: str):
        self.slug = slug
        self.next_path = next_path


def signed_in(request: Request) -> tuple[Page, Actor]:
    p = page(request)
    if p.actor is None:
        raise LoginRequired(p.slug, request.url.path)
    return p, p.actor


def forbid(message: str = "无权访问 (forbidden)") -> HTTPException:
    return HTTPException(403, message)


def login_redirect(exc: LoginRequired) -> Response:
    return RedirectResponse(f"/{exc.slug}/login?next={quote(exc.next_path)}", status_code=303)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render with the session's CSRF token at hand; autoescaping is on for every template."""
    context.setdefault("p", None)
    html = env_of(request).get_template(template).render(
        request=request, csrf=csrf_token(request.session), **context)
    return HTMLResponse(html, status_code=status_code,
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                                 "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY",
                                 "Content-Security-Policy": CSP})


# Scripts and styles only from this origin: a stray injected <script> would not run even if unescaped.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def safe_next(value: str | None, slug: str) -> str:
    """Only same-county paths are followed after login (no open redirect)."""
    if value and value.startswith(f"/{slug}/") and "//" not in value and "\\" not in value:
        return value
    return f"/{slug}/todo"
