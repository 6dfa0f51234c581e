"""How portal users meet the engine: workflow actors, case reads within scope, the forms engine's routes.

Reads for lists (待办, case lists, dashboards) are scope-filtered SQL over ``cases`` here; every change goes
through ``wangge.core.cases`` (open_case / act), which owns the transaction and the history.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import or_, select
from starlette.routing import BaseRoute

from wangge.core.cases import PackCache
from wangge.core.cases.service import _case  # the row → Case mapping, shared so both read cases alike
from wangge.core.pack.model import Pack
from wangge.core.store import Database
from wangge.core.store.tables import cases
from wangge.core.workflow import Actor as WorkflowActor
from wangge.core.workflow import WorkflowError, allowed_actions

from .auth import Actor, in_scope, scope_units
from .deployment import Deployment


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


def forms_routes(deployment: Deployment) -> list[BaseRoute]:
    """The forms engine's routes (render / validate / store), when it provides a route factory."""
    try:
        from wangge.forms import web as forms_web  # type: ignore[attr-defined]  # noqa: PLC0415
    except ImportError:
        return []
    factory = getattr(forms_web, "form_routes", None) or getattr(forms_web, "routes", None)
    if factory is None:
        return []
    try:
        return list(factory(deployment))
    except TypeError:
        return []
