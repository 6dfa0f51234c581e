"""The landing page, each county's home, signing in and out."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .. import audit
from ..auth import authenticate, csrf_token, has_admin
from .common import SESSION_USERS, deployment_of, page, render, safe_next


async def landing(request: Request) -> Response:
    deployment = deployment_of(request)
    counties = [(c.slug, deployment.pack(c.slug)) for c in deployment.counties.values()]
    return render(request, "landing.html", counties=counties)


async def county_home(request: Request) -> Response:
    p = page(request)
    if p.actor is not None:
        return RedirectResponse(p.url("todo"), status_code=303)
    return render(request, "county.html", p=p, has_admin=has_admin(p.db, p.slug))


async def login(request: Request) -> Response:
    p = page(request)
    next_path = safe_next(request.query_params.get("next"), p.slug)
    if request.method == "GET":
        return render(request, "login.html", p=p, next=next_path, error=None, username="")
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "")), p.slug)
    user = authenticate(p.db, p.slug, username, password) if username and password else None
    with p.db.engine.begin() as conn:
        audit.record(conn, p.slug, username[:128] or "-", "login" if user else "login.failed", {})
    if user is None:
        return render(request, "login.html", p=p, next=next_path, username=username, status_code=401,
                      error="用户名或密码不正确 (wrong user name or password)")
    users = dict(request.session.get(SESSION_USERS, {}))
    users[p.slug] = user.username
    request.session[SESSION_USERS] = users
    request.session.pop("csrf", None)  # a fresh CSRF token for the new login
    csrf_token(request.session)
    return RedirectResponse(next_path, status_code=303)


async def logout(request: Request) -> Response:
    p = page(request)
    users = dict(request.session.get(SESSION_USERS, {}))
    users.pop(p.slug, None)
    request.session[SESSION_USERS] = users
    return RedirectResponse(p.url(), status_code=303)
