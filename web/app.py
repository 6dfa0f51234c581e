"""The portal application: ``create_app(deployment)`` → a Starlette app serving every county of it.

Layout: ``/`` lists the counties; each county lives under ``/{county}/…`` with its own users, data and
pack versions (the path segment is the tenant id). The JSON API (``wangge.web.api.api_routes``) is
mounted when installed. Middleware order, outermost first: sessions (signed cookie) → CSRF → routes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from . import filters, plugins
from . import scores as scores_policy
from .api import api_routes
from .csrf import CSRFMiddleware
from .deployment import Deployment
from .views import admin, cases, dashboard, packview, public, scores
from .views.common import LoginRequired, login_redirect, render

HERE = Path(__file__).parent
SESSION_COOKIE = "wangge_session"
SESSION_AGE = 12 * 3600  # a working day and a half: a shared phone does not stay signed in for weeks


def templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    filters.install(env)
    env.filters["inputs"] = scores_policy.describe_inputs
    env.globals["flag_names"] = scores_policy.FLAG_NAMES
    env.globals["may_see_scores"] = lambda actor: actor is not None and scores_policy.access(actor) is not None
    return env


def county_routes() -> list[BaseRoute]:
    c = "/{county:str}"
    return [
        Route(c + "/", public.county_home, name="county"),
        Route(c + "/login", public.login, methods=["GET", "POST"], name="login"),
        Route(c + "/logout", public.logout, methods=["POST"], name="logout"),
        Route(c + "/todo", cases.todo, name="todo"),
        Route(c + "/report", cases.report, methods=["GET", "POST"], name="report"),
        Route(c + "/cases", cases.case_list, name="cases"),
        Route(c + "/cases/{case_id:str}", cases.case_page, name="case"),
        Route(c + "/cases/{case_id:str}/act", cases.act, methods=["POST"], name="act"),
        Route(c + "/cases/{case_id:str}/appeals", scores.file_appeal, methods=["POST"], name="appeal"),
        Route(c + "/cases/{case_id:str}/appeals/{appeal_id:str}/withdraw", scores.withdraw_appeal, methods=["POST"],
              name="withdraw_appeal"),
        Route(c + "/dashboard", dashboard.dashboard, name="dashboard"),
        Route(c + "/scores", scores.scores_page, name="scores"),
        Route(c + "/compare", dashboard.compare, name="compare"),
        Route(c + "/pack", packview.browser, name="pack"),
        Route(c + "/pack/dryrun", packview.dry_run_page, methods=["GET", "POST"], name="dryrun"),
        Route(c + "/pack/publish", packview.publish, methods=["POST"], name="publish"),
        Route(c + "/users", admin.users_page, methods=["GET", "POST"], name="users"),
    ]


def _api_routes(deployment: Deployment, observe: Any) -> list[BaseRoute]:
    return list(api_routes(deployment, observe=observe))


def _forms_routes(deployment: Deployment) -> list[BaseRoute]:
    from . import integrations  # noqa: PLC0415

    return integrations.forms_routes(deployment)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (403, 404, 400, 409, 405):
        return render(request, "error.html", status_code=exc.status_code, status=exc.status_code,
                      message=exc.detail)
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    if request.method != "GET":
        return HTMLResponse("请先登录 (sign in first)", status_code=403)
    return login_redirect(exc)


async def healthz(_: Request) -> Response:
    return PlainTextResponse("ok")


def create_app(deployment: Deployment, *, https_only: bool = False, extra_routes: list[Any] | None = None,
               deliver: bool = True) -> Starlette:
    """The portal for ``deployment``. ``https_only`` marks the session cookie Secure (set it behind TLS);
    ``deliver`` runs the outbox delivery loop while the app is up (one per process is enough)."""
    county_plugins = plugins.county_plugins(deployment)
    routes: list[BaseRoute] = [
        Route("/", public.landing, name="landing"),
        Route("/healthz", healthz),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        *_api_routes(deployment, plugins.observer(county_plugins)),
        *_forms_routes(deployment),
        *plugins.hotline_routes(deployment, county_plugins),
        *plugins.intake_routes(deployment, county_plugins),
        *(extra_routes or []),
        *county_routes(),
    ]
    middleware = [
        Middleware(SessionMiddleware, secret_key=deployment.secret.decode() if isinstance(deployment.secret, bytes)
                   else str(deployment.secret), session_cookie=SESSION_COOKIE, max_age=SESSION_AGE,
                   same_site="lax", https_only=https_only),
        Middleware(CSRFMiddleware),
    ]
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={HTTPException: _http_error, LoginRequired: _login_required},
                    lifespan=plugins.lifespan(deployment, county_plugins, deliver=deliver))
    app.state.plugins = county_plugins
    app.state.observe = plugins.observer(county_plugins)
    app.state.deployment = deployment
    app.state.templates = templates()
    return app
