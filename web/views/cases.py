"""待办, reporting an event, case lists, the case page (timeline, route trace, my actions) and acting."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from wangge.core.cases import (
    CaseNotFound,
    ConcurrentUpdate,
    PackCache,
    get_case,
    open_case,
)
from wangge.core.cases import act as case_act
from wangge.core.events import CHINA, URGENCIES, EventError, parse_event
from wangge.core.routing import RoutingError
from wangge.core.workflow import WorkflowError, allowed_actions

from .. import appeals, engine
from ..auth import Actor, in_scope, scope_units
from ..integrations import can_read_case, todo_list, visible_cases, workflow_actor
from .common import Page, forbid, render, signed_in

MAX_UNITS_IN_SELECT = 300   # beyond this the unit is typed as a code: keeps the form page small on a phone
TEXT_LIMITS = {"title": 120, "description": 4000, "location_text": 200}


def _cache(request: Request) -> PackCache:
    # One pinned-pack cache per app (not per request, not global): compiled versions are reused.
    cache = getattr(request.app.state, "pack_cache", None)
    if cache is None:
        cache = request.app.state.pack_cache = PackCache()
    return cache


async def todo(request: Request) -> Response:
    p, actor = signed_in(request)
    items = todo_list(p.db, p.slug, p.pack, actor, _cache(request))
    mine = [c for c in visible_cases(p.db, p.slug, p.pack, actor, open_only=True, limit=50)
            if c.reported_by == actor.username] if actor.is_resident or actor.role.kind == "worker" else []
    return render(request, "todo.html", p=p, items=items, mine=mine, states=_state_names(p))


async def case_list(request: Request) -> Response:
    p, actor = signed_in(request)
    show_closed = request.query_params.get("closed") == "1"
    found = visible_cases(p.db, p.slug, p.pack, actor, open_only=not show_closed, limit=200)
    return render(request, "cases.html", p=p, cases=found, show_closed=show_closed, states=_state_names(p))


def _state_names(p: Page) -> dict[str, str]:
    wf = p.pack.workflow
    return {s.id: s.name for s in wf.states.values()} if wf else {}


# ---------------------------------------------------------------- reporting


def _may_report(p: Page, actor: Actor) -> bool:
    return actor.is_admin or actor.is_resident or actor.department is None


def _report_units(p: Page, actor: Actor) -> list[Any]:
    codes = scope_units(p.pack, actor)
    return [p.pack.grid.units[c] for c in codes]


def _default_channel(p: Page, actor: Actor) -> str:
    wanted = "resident_report" if actor.is_resident else "grid_patrol"
    for ch in p.pack.channels.values():
        if ch.maps_to == wanted:
            return ch.id
    return next(iter(p.pack.channels), "")


async def report(request: Request) -> Response:
    p, actor = signed_in(request)
    if not _may_report(p, actor):
        raise forbid("部门账号不直接上报事件 (departments do not report events here)")
    units = _report_units(p, actor)
    ctx: dict[str, Any] = {"p": p, "units": units if len(units) <= MAX_UNITS_IN_SELECT else None,
                           "majors": p.pack.events.majors, "subclasses": p.pack.events.subclasses,
                           "urgencies": URGENCIES, "channels": list(p.pack.channels.values()),
                           "default_channel": _default_channel(p, actor), "errors": {}, "values": {},
                           "no_workflow": p.pack.workflow is None}
    if request.method == "GET":
        ctx["values"] = {"unit": actor.unit if actor.unit and len(units) == 1 else "",
                         "channel": ctx["default_channel"], "urgency": "normal"}
        return render(request, "report.html", **ctx)
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in
              ("class", "unit", "title", "description", "urgency", "people", "channel", "lat", "lon", "location_text")}
    ctx["values"] = values
    errors: dict[str, str] = {}
    # Scope first: a unit outside the actor's scope is refused whatever else the form says.
    if values["unit"] and values["unit"] in p.pack.grid.units and not in_scope(p.pack, actor, values["unit"]):
        raise forbid("只能在本人负责的网格单元内上报 (unit outside your scope)")
    for key, limit in TEXT_LIMITS.items():
        if len(values.get(key, "")) > limit:
            errors[key] = f"最多 {limit} 字 (at most {limit} characters)"
    if not values["title"]:
        errors["title"] = "请填写事件名称 (required)"
    if values["channel"] and actor.is_resident and values["channel"] != ctx["default_channel"]:
        values["channel"] = ctx["default_channel"]  # residents report only through the resident channel
    raw: dict[str, Any] = {
        "id": f"web-{uuid.uuid4().hex[:12]}", "class": values["class"] or None, "unit": values["unit"],
        "channel": values["channel"] or ctx["default_channel"], "reported_at": datetime.now(CHINA).isoformat(),
        "urgency": values["urgency"] or "normal", "title": values["title"], "description": values["description"],
        "reporter": actor.username, "reporter_role": actor.role.id,
    }
    try:
        raw["people"] = int(values["people"] or 0)
    except ValueError:
        errors["people"] = "涉及人数应为整数 (a whole number)"
    if values["lat"] or values["lon"]:
        try:
            raw["location"] = [float(values["lat"]), float(values["lon"])]
        except ValueError:
            errors["location"] = "位置应为数字纬度、经度 (numbers)"
    if values["location_text"]:
        raw["data"] = {"address": values["location_text"]}
    event = None
    try:
        event = parse_event(raw, p.pack)
    except EventError as exc:
        errors.update({k: v for k, v in exc.errors.items() if k not in errors})
    if errors or event is None:
        ctx["errors"] = errors
        return render(request, "report.html", status_code=400, **ctx)
    try:
        decision = p.deployment.router(p.slug).decide(event)
    except RoutingError as exc:
        ctx["errors"] = {"$": exc.message}
        return render(request, "report.html", status_code=409, **ctx)
    try:
        case = open_case(p.db, p.slug, p.pack, event, decision, workflow_actor(actor), observe=request.app.state.observe)
    except WorkflowError as exc:
        ctx["errors"] = {"$": exc.message}
        return render(request, "report.html", status_code=409, **ctx)
    return RedirectResponse(p.url(f"cases/{case.id}?new=1"), status_code=303)


# ---------------------------------------------------------------- the case page


def load_case(p: Page, actor: Actor, case_id: str) -> Any:
    try:
        case = get_case(p.db, p.slug, case_id)
    except CaseNotFound:
        case = None
    if case is None or not can_read_case(p.pack, actor, case):
        # Same answer for "absent" and "not yours": case ids of other units are not revealed.
        raise forbid("没有这个案件,或无权查看 (no such case, or not yours)")
    return case


def _transition_form(p: Page, t: Any) -> dict[str, Any]:
    """What a button needs besides the note: a lead/assist choice, an extension length, departments."""
    needs_assign = t.kind == "arbitrate" or any(e.op == "assign" and e.value == "data" for e in t.effects)
    return {"t": t, "assign": needs_assign, "extend": t.kind == "extend", "summon": t.kind == "summon",
            "note_required": t.note_required}


async def case_page(request: Request) -> Response:
    p, actor = signed_in(request)
    case = load_case(p, actor, request.path_params["case_id"])
    cache = _cache(request)
    with p.db.engine.connect() as conn:
        case_pack = cache.get(conn, p.slug, case.pack_id, case.pack_version, p.pack)
    actions = allowed_actions(case_pack, case.view(), workflow_actor(actor)) if case_pack.workflow else ()
    states = {s.id: s.name for s in case_pack.workflow.states.values()} if case_pack.workflow else {}
    names = {t.id: t.name for t in case_pack.workflow.transitions} if case_pack.workflow else {}
    names["open"] = "上报"
    # 申诉 are shown to staff who can read the case; only admins file or withdraw them (views/scores.py).
    case_appeals = appeals.case_appeals(p.db, p.slug, case.id) if not actor.is_resident else []
    return render(request, "case.html", p=p, case=case, case_pack=case_pack, states=states, action_names=names,
                  actions=[_transition_form(case_pack, t) for t in actions],
                  decision=engine.decision_view(dict(case.decision)), departments=case_pack.departments,
                  error=request.query_params.get("error"), new=request.query_params.get("new") == "1",
                  appeals=case_appeals, withdrawn=appeals.withdrawals(p.db, p.slug, case.id) if case_appeals else {},
                  rejudge_facts=appeals.REJUDGE_FACTS, appeal_done=request.query_params.get("appeal"))


async def act(request: Request) -> Response:
    p, actor = signed_in(request)
    case = load_case(p, actor, request.path_params["case_id"])
    form = await request.form()
    action = str(form.get("action", ""))
    note = str(form.get("note", ""))[:2000]
    data: dict[str, Any] = {}
    if form.get("lead"):
        data["lead"] = str(form.get("lead"))
    assist = [str(a) for a in form.getlist("assist") if a]
    if assist:
        data["assist"] = assist
    if form.get("by"):
        data["by"] = str(form.get("by"))
    departments = [str(d) for d in form.getlist("departments") if d]
    if departments:
        data["departments"] = departments
    try:
        seq = int(str(form.get("seq", "")))
    except ValueError:
        seq = None
    try:
        case_act(p.db, p.slug, p.pack, case.id, action, workflow_actor(actor), note, data, expected_seq=seq,
                 cache=_cache(request), observe=request.app.state.observe)
    except WorkflowError as exc:
        status = 403 if exc.code == "NOT_ALLOWED" else 409
        return render(request, "error.html", p=p, status=status, status_code=status, message=exc.message,
                      back=p.url(f"cases/{case.id}"))
    except ConcurrentUpdate as exc:
        return render(request, "error.html", p=p, status=409, status_code=409, message=str(exc),
                      back=p.url(f"cases/{case.id}"))
    return RedirectResponse(p.url(f"cases/{case.id}"), status_code=303)
