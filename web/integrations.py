"""How portal users meet the engine: workflow actors, case reads within scope, the forms engine's routes.

Reads for lists (待办, case lists, dashboards) are scope-filtered SQL over ``cases`` here; every change goes
through ``wangge.core.cases`` (open_case / act), which owns the transaction and the history.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from sqlalchemy import or_, select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Router
from starlette.types import ASGIApp, Receive, Scope, Send
from wangge.core.cases import PackCache
from wangge.core.cases.service import (
    _case,  # the row → Case mapping, shared so both read cases alike
)
from wangge.core.pack.model import Pack
from wangge.core.store import Database
from wangge.core.store.tables import cases
from wangge.core.workflow import Actor as WorkflowActor
from wangge.core.workflow import WorkflowError, allowed_actions
from wangge.forms.app import FormsConfig
from wangge.forms.app import forms_routes as forms_engine_routes

from .auth import CSRF_FIELD, Actor, csrf_ok, csrf_token, in_scope, scope_units
from .deployment import Deployment
from .views.common import SESSION_USERS


def workflow_actor(actor: Actor) -> WorkflowActor:
    """The workflow's view of a portal user: a grid role at its unit, a department, or a plain person
    (admin, resident) who matches only relational selectors such as ``reporter``. The id is the user name,
    which is also what a case's ``reported_by`` holds for events reported through the portal."""
    if actor.department:
        return WorkflowActor(actor.username, "department", actor.department)
    return WorkflowActor(actor.username, actor.role.id, actor.unit)


def can_read_case(pack: Pack, actor: Actor, case: Any) -> bool:
    """Admins: everything in scope. Residents: what they reported. Departments: cases they lead, assist or
    were summoned to. Grid roles: cases that happened, or are handled, at their unit or below."""
    if actor.is_resident:
        return case.reported_by == actor.username
    if actor.department:
        summons = (case.vars or {}).get("summons", {}) if hasattr(case, "vars") else {}
        return case.lead == actor.department or actor.department in (case.assist or ()) or actor.department in summons
    if case.reported_by == actor.username:
        return True
    return in_scope(pack, actor, case.unit_code) or in_scope(pack, actor, case.handler_unit)


def _scope_filter(pack: Pack, actor: Actor) -> Any:
    if actor.is_resident:
        return cases.c.reported_by == actor.username
    if actor.department:
        # Summoned departments are found after the query (vars is JSON); lead and assist narrow it here.
        return or_(cases.c.lead == actor.department, cases.c.assist.is_not(None))
    if actor.unit is None:
        return None
    units = scope_units(pack, actor)
    return or_(cases.c.unit_code.in_(units), cases.c.handler_unit.in_(units), cases.c.reported_by == actor.username)


def visible_cases(db: Database, tenant: str, pack: Pack, actor: Actor, *, open_only: bool = False,
                  limit: int = 200) -> list[Any]:
    query = select(cases).where(cases.c.tenant == tenant)
    condition = _scope_filter(pack, actor)
    if condition is not None:
        query = query.where(condition)
    if open_only:
        query = query.where(cases.c.closed_at.is_(None))
    with db.engine.connect() as conn:
        rows = conn.execute(query.order_by(cases.c.reported_at.desc()).limit(limit * 3)).all()
    found = [_case(r) for r in rows]
    return [c for c in found if can_read_case(pack, actor, c)][:limit]


@dataclass(frozen=True)
class Todo:
    case: Any
    actions: tuple[Any, ...]   # workflow Transitions the actor may take now


def todo_list(db: Database, tenant: str, pack: Pack, actor: Actor, cache: PackCache, limit: int = 100) -> list[Todo]:
    """Open cases in scope on which the actor can act now, nearest deadline first."""
    who = workflow_actor(actor)
    out: list[Todo] = []
    with db.engine.connect() as conn:
        for case in visible_cases(db, tenant, pack, actor, open_only=True, limit=500):
            try:
                case_pack = cache.get(conn, tenant, case.pack_id, case.pack_version, pack)
                actions = allowed_actions(case_pack, case.view(), who) if case_pack.workflow else ()
            except (WorkflowError, LookupError):
                continue
            if actions:
                out.append(Todo(case, actions))
    far = datetime.max.replace(tzinfo=timezone.utc)
    out.sort(key=lambda t: t.case.due_at or far)
    return out[:limit]


@dataclass(frozen=True)
class PortalCsrf:
    """The forms engine's CSRF policy backed by the portal's session token, so the portal's CSRF middleware
    and the forms engine check one and the same token (forms.csrf.CsrfPolicy)."""

    field_name: str = CSRF_FIELD

    def token(self, request: Request) -> tuple[str, str | None]:
        return csrf_token(request.session), None

    def check(self, request: Request, token: str | None) -> bool:
        return csrf_ok(request.session, token)

    def set_cookie(self, response: Response, cookie: str | None) -> None:
        return None


def forms_routes(deployment: Deployment) -> list[BaseRoute]:
    """The forms engine under ``/forms/{pack id}/…``: each county's forms, stored under that county's tenant,
    filled by its signed-in users only."""
    slug_of = {county.pack.id: slug for slug, county in deployment.counties.items()}
    config = FormsConfig.build(
        {county.pack.id: county.pack for county in deployment.counties.values()}, deployment.database,
        secret=deployment.secret.decode() if isinstance(deployment.secret, bytes) else str(deployment.secret),
        csrf=PortalCsrf(), uploads=deployment.data_dir / "uploads",
        tenant=lambda pack, request: slug_of[pack.id],
        user=lambda request: _signed_in(request, slug_of) or "")
    return [Mount("/forms", app=_signed_in_only(Router(routes=forms_engine_routes(config)), slug_of))]


def _signed_in(request: Request, slug_of: dict[str, str]) -> str | None:
    pack_id = request.scope["path"].removeprefix(request.scope.get("root_path", "")).strip("/").split("/")[0]
    slug = slug_of.get(pack_id)
    return request.session.get(SESSION_USERS, {}).get(slug) if slug else None


def _signed_in_only(app: ASGIApp, slug_of: dict[str, str]) -> ASGIApp:
    """Forms of a county are for that county's signed-in users; others are sent to its login page."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        path = scope["path"].removeprefix(scope.get("root_path", "")).strip("/")
        pack_id = path.split("/")[0]
        if pack_id in slug_of and not path.startswith("static") and _signed_in(request, slug_of) is None:
            target = f"/{slug_of[pack_id]}/login?next=" + quote(scope.get("root_path", "") + "/" + path)
            await RedirectResponse(target, status_code=303)(scope, receive, send)
            return
        if not path or path == "static" or (pack_id not in slug_of and not path.startswith("static/")):
            await PlainTextResponse("没有这个表单 (no such form)", status_code=404)(scope, receive, send)
            return
        await app(scope, receive, send)

    return guarded
