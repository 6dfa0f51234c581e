"""GET /cases, GET /cases/{case_id}, POST /cases/{case_id}/actions."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from wangge.core.pack.model import Pack
from wangge.core.store.tables import cases, transitions

from . import schemas, workflow_port
from .auth import Principal, denied_unit
from .context import ApiContext, int_param, json_body
from .errors import ApiError, invalid, not_found
from .handlers import UnicodeJSON, api, subtree
from .intake import in_subtree
from .spec import ERROR_SCHEMA, Endpoint, Param
from .timefmt import CHINA, iso, to_store

READ, WRITE = "cases:read", "cases:write"


def state_name(pack: Pack, state: str) -> tuple[str, bool]:
    wf = getattr(pack, "workflow", None)
    if wf is not None and state in wf.states:
        st = wf.states[state]
        return st.name, st.is_open
    return state, state not in ("closed", "archived")


def case_summary(pack: Pack, row: Mapping[str, Any]) -> dict[str, Any]:
    name, is_open = state_name(pack, row["state"])
    cls = pack.events.classes.get(row["event_class"])
    unit = pack.grid.units.get(row["unit_code"])
    dept = pack.departments.get(row["lead"]) if row["lead"] else None
    event = row["event"] or {}
    return {
        "id": row["id"], "external_id": row["external_id"], "state": row["state"], "state_name": name,
        "open": is_open, "level": row["level"], "event_class": row["event_class"],
        "event_class_name": cls.name if cls else row["event_class"], "channel": row["channel"],
        "unit": row["unit_code"], "unit_name": unit.name if unit else row["unit_code"],
        "handler_unit": row["handler_unit"], "lead": row["lead"], "lead_name": dept.name if dept else row["lead"],
        "assist": list(row["assist"] or []), "priority": row["priority"], "supervised": bool(row["supervised"]),
        "reported_at": iso(row["reported_at"]), "due_at": iso(row["due_at"]), "closed_at": iso(row["closed_at"]),
        "title": event.get("title") or event.get("description", "")[:40],
    }


def _time_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise invalid({name: f'"{raw}" 不是 ISO 8601 时间 (e.g. 2026-03-01T00:00:00+08:00)'}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def case_filters(request: Request, pack: Pack, tenant: str, principal: Principal) -> list[Any]:
    """WHERE terms from the query string, always inside the token's unit."""
    q = request.query_params
    where: list[Any] = [cases.c.tenant == tenant]
    unit = q.get("unit")
    if unit:
        if unit not in pack.grid.units:
            raise invalid({"unit": f'网格单元 "{unit}" 不存在 (unknown unit)'})
        if principal.unit and not in_subtree(pack, unit, principal.unit):
            raise denied_unit(principal, unit)
        where.append(cases.c.unit_code.in_(subtree(pack, unit)))
    elif principal.unit:
        where.append(cases.c.unit_code.in_(subtree(pack, principal.unit)))
    for key, column in (("state", cases.c.state), ("class", cases.c.event_class), ("channel", cases.c.channel),
                        ("lead", cases.c.lead), ("level", cases.c.level), ("external_id", cases.c.external_id)):
        value = q.get(key)
        if value:
            where.append(column == value)
    status = q.get("status")
    if status:
        if status not in ("open", "closed"):
            raise invalid({"status": "status 只能是 open 或 closed"})
        wf = getattr(pack, "workflow", None)
        open_states = sorted(wf.open_states) if wf is not None else None
        if open_states is not None:
            where.append(cases.c.state.in_(open_states) if status == "open" else cases.c.state.not_in(open_states))
        else:
            where.append(cases.c.closed_at.is_(None) if status == "open" else cases.c.closed_at.is_not(None))
    since, until = _time_param(request, "from"), _time_param(request, "to")
    if since:
        where.append(cases.c.reported_at >= to_store(since))
    if until:
        where.append(cases.c.reported_at < to_store(until))
    return where


def endpoints(ctx: ApiContext) -> list[Endpoint]:
    db = ctx.database

    @api
    async def list_cases(request: Request) -> Response:
        county = ctx.county(request)
        pack = ctx.pack(county.slug)
        principal = await ctx.principal(request, county, READ)
        limit = int_param(request, "limit", 50, 1, 500)
        offset = int_param(request, "offset", 0, 0, 10_000_000)
        where = case_filters(request, pack, county.slug, principal)

        def query() -> tuple[int, list[Mapping[str, Any]]]:
            with db.engine.connect() as conn:
                total = conn.execute(select(func.count()).select_from(cases).where(and_(*where))).scalar_one()
                rows = conn.execute(select(cases).where(and_(*where))
                                    .order_by(cases.c.reported_at.desc(), cases.c.id).limit(limit).offset(offset))
                return total, list(rows.mappings())

        total, rows = await run_in_threadpool(query)
        items = [case_summary(pack, r) for r in rows]
        nxt = offset + limit if offset + limit < total else None
        return UnicodeJSON({"items": items, "total": total, "limit": limit, "offset": offset, "next_offset": nxt})

    @api
    async def get_case(request: Request) -> Response:
        county = ctx.county(request)
        pack = ctx.pack(county.slug)
        principal = await ctx.principal(request, county, READ)
        case_id = request.path_params["case_id"]
        row, history = await run_in_threadpool(load_case, db, county.slug, case_id)
        if row is None:
            raise not_found(f"案件 {case_id} 不存在 (no such case)")
        if principal.unit and not in_subtree(pack, row["unit_code"], principal.unit):
            raise denied_unit(principal, row["unit_code"])
        return UnicodeJSON(case_detail(pack, row, history))

    @api
    async def post_action(request: Request) -> Response:
        county = ctx.county(request)
        pack = ctx.pack(county.slug)
        principal = await ctx.principal(request, county, WRITE)
        case_id = request.path_params["case_id"]
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("action"), str) or not body["action"]:
            raise invalid({"action": "缺少动作 action (required)"})
        unknown = sorted(set(body) - set(schemas.ACTION["properties"]))
        if unknown:
            raise invalid({"$": f"未知字段 {', '.join(unknown)} (unknown keys)"})
        row, _ = await run_in_threadpool(load_case, db, county.slug, case_id)
        if row is None:
            raise not_found(f"案件 {case_id} 不存在 (no such case)")
        if principal.unit and not in_subtree(pack, row["unit_code"], principal.unit):
            raise denied_unit(principal, row["unit_code"])
        result = await run_in_threadpool(workflow_port.apply, db, county, row, body, principal, ctx.observe)
        row, history = await run_in_threadpool(load_case, db, county.slug, case_id)
        out = case_detail(pack, row, history)
        out["applied"] = result
        return UnicodeJSON(out)

    case_param = Param("case_id", "path", {"type": "string"}, "案件编号", True)
    list_params = (
        Param("state", "query", {"type": "string"}, "状态 id"),
        Param("status", "query", {"enum": ["open", "closed"]}, "办理中 / 已办结"),
        Param("unit", "query", {"type": "string"}, "网格单元编码(含下级)"),
        Param("class", "query", {"type": "string"}, "事件分类 id"),
        Param("channel", "query", {"type": "string"}, "渠道 id"),
        Param("lead", "query", {"type": "string"}, "主办部门 id"),
        Param("level", "query", {"type": "string"}, "当前办理层级"),
        Param("external_id", "query", {"type": "string"}, "外部编号"),
        Param("from", "query", {"type": "string", "format": "date-time"}, "上报时间起(含)"),
        Param("to", "query", {"type": "string", "format": "date-time"}, "上报时间止(不含)"),
        Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, "每页条数"),
        Param("offset", "query", {"type": "integer", "minimum": 0, "default": 0}, "偏移"),
    )
    return [
        Endpoint("GET", "/cases", list_cases, "listCases", "案件列表 (list cases; filters, pagination)", "cases",
                 scope=READ, params=list_params,
                 description="只返回令牌所限网格单元及其下级的案件 (scoped to the token's unit).",
                 responses={200: ("案件分页", schemas.CASE_PAGE), 422: ("参数错误", ERROR_SCHEMA)}),
        Endpoint("GET", "/cases/{case_id}", get_case, "getCase", "案件详情:办理轨迹与流转推理 (case with history and decision trace)",
                 "cases", scope=READ, params=(case_param,),
                 responses={200: ("案件", schemas.CASE_DETAIL), 404: ("案件不存在", ERROR_SCHEMA)}),
        Endpoint("POST", "/cases/{case_id}/actions", post_action, "postCaseAction",
                 "办理案件:执行工作流动作 (apply a workflow action)", "cases", scope=WRITE, params=(case_param,),
                 body=schemas.ACTION,
                 responses={200: ("已办理,返回最新案件", schemas.CASE_DETAIL), 404: ("案件不存在", ERROR_SCHEMA),
                            409: ("案件已被他人更新或当前状态不能执行该动作", ERROR_SCHEMA),
                            422: ("动作或字段错误", ERROR_SCHEMA)}),
    ]


def load_case(db: Any, tenant: str, case_id: str) -> tuple[Mapping[str, Any] | None, list[Mapping[str, Any]]]:
    with db.engine.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.tenant == tenant, cases.c.id == case_id)).mappings().first()
        if row is None:
            return None, []
        history = conn.execute(select(transitions).where(transitions.c.tenant == tenant, transitions.c.case_id == case_id)
                               .order_by(transitions.c.seq)).mappings().all()
    return row, list(history)


def case_detail(pack: Pack, row: Mapping[str, Any], history: list[Mapping[str, Any]]) -> dict[str, Any]:
    out = case_summary(pack, row)
    out.update({
        "event": row["event"], "decision": row["decision"], "pack_version": row["pack_version"], "seq": row["seq"],
        "history": [{"seq": h["seq"], "at": iso(h["at"]), "actor": h["actor"], "role": h["role"],
                     "action": h["action"], "from_state": h["from_state"], "to_state": h["to_state"],
                     "rule": h["rule"], "note": h["note"], "data": h["data"]} for h in history],
        "actions": workflow_port.available(pack, row),
    })
    return out


def conflict(message: str) -> ApiError:
    return ApiError(409, "CONFLICT", message)
