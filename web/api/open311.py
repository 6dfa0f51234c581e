"""Open311 GeoReport v2 per county, so existing Open311 clients can report into wangge.

Mapping (docs/api.md has the table): services = the pack's event classes (小类; a 大类 without 小类 is a
service itself), ``group`` = the 大类 name; a service's attributes = the input fields of the pack's event
report form; requests = cases, created through the same intake as POST /events. JSON only (``.json``):
the XML variant of the spec is not served.

Units: ``attribute[unit]`` (a unit code) wins; otherwise the deepest unit whose name appears in
``address_string``. The pack's grid has no geometry, so lat/long alone cannot place a request: they are
kept as the event's location.

GET requests is public in Open311; without an ``api_key`` holding ``cases:read`` it returns only the
public fields (status, service, times, agency) — the description and address need the key.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from wangge.core.pack.model import Pack
from wangge.core.pack.sections.forms import Form, FormField
from wangge.core.store.tables import cases
from wangge.core.workflow import Actor
from wangge.forms.validate import Validation

from .auth import Principal
from .cases import state_name
from .context import ApiContext
from .errors import ApiError
from .forms import raw_input
from .handlers import UnicodeJSON, subtree
from .intake import in_subtree
from .spec import Endpoint, Param
from .timefmt import CHINA, iso
from .timefmt import now as clock

DATATYPES = {"integer": "number", "decimal": "number", "date": "datetime", "datetime": "datetime",
             "textarea": "text", "select_one": "singlevaluelist", "yes_no": "singlevaluelist",
             "select_multiple": "multivaluelist"}
SKIP_TYPES = frozenset({"photo", "file", "repeat", "note", "calculate", "hidden"})
EVENT_FORM = "event_report"


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def o311_error(exc: Open311Error) -> Response:
    # GeoReport v2 errors: a list of {code, description}.
    return UnicodeJSON([{"code": exc.status, "description": exc.description}], status_code=exc.status)


def event_form(pack: Pack) -> Form | None:
    """The form that describes an event report: ``event_report`` if the pack has it, else the first
    form whose subject is an event."""
    if EVENT_FORM in pack.forms:
        return pack.forms[EVENT_FORM]
    return next((f for f in pack.forms.values() if f.subject == "event"), None)


def services(pack: Pack) -> list[dict[str, Any]]:
    form = event_form(pack)
    metadata = form is not None and any(_attribute_field(f) for f in form.fields)
    out = []
    for major in pack.events.majors:
        subs = pack.events.subclasses(major.id) or (major,)
        for cls in subs:
            out.append({"service_code": cls.id, "service_name": cls.name,
                        "description": f"{major.name} / {cls.name}" if cls is not major else cls.name,
                        "metadata": metadata, "type": "realtime", "keywords": cls.code, "group": major.name})
    return out


def _attribute_field(f: FormField) -> bool:
    return f.takes_input and f.type not in SKIP_TYPES


def attributes(pack: Pack) -> list[dict[str, Any]]:
    form = event_form(pack)
    if form is None:
        return []
    out = []
    for order, f in enumerate((f for f in form.fields if _attribute_field(f)), start=1):
        entry: dict[str, Any] = {"variable": True, "code": f.name, "datatype": DATATYPES.get(f.type, "string"),
                                 "required": f.required and f.type != "unit", "datatype_description": f.hint or "",
                                 "order": order, "description": f.label}
        if f.type == "yes_no":
            entry["values"] = [{"key": "true", "name": "是"}, {"key": "false", "name": "否"}]
        elif f.choices:
            entry["values"] = [{"key": c.value, "name": c.label} for c in f.choices]
        elif f.type == "unit":
            entry["datatype"] = "singlevaluelist"
            entry["datatype_description"] = "网格单元编码;也可不填,由 address_string 中的单元名称确定"
            entry["values"] = [{"key": u.code, "name": u.name} for u in pack.grid.units.values()]
        out.append(entry)
    return out


def unit_from_address(pack: Pack, address: str) -> str | None:
    """The deepest unit whose name appears in the address (longest name first among equals)."""
    depth = {lv.id: lv.depth for lv in pack.grid.levels}
    found = [u for u in pack.grid.units.values() if u.name and u.name in address]
    if not found:
        return None
    return max(found, key=lambda u: (depth.get(u.level, 0), len(u.name))).code


def _fields(form_data: FormData | Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """Standard parameters and ``attribute[...]`` values from a form (or JSON) body."""
    params: dict[str, str] = {}
    attrs: dict[str, Any] = {}
    items = form_data.multi_items() if isinstance(form_data, FormData) else list(form_data.items())
    for key, value in items:
        if key.startswith("attribute[") and key.endswith("]"):
            name = key[len("attribute["):-1].rstrip("[]").rstrip("]")
            if key.endswith("[]]") or name in attrs:       # multivaluelist: attribute[x][]=a&attribute[x][]=b
                prev = attrs.get(name)
                attrs[name] = ([*prev] if isinstance(prev, list) else ([prev] if prev is not None else [])) + [value]
            else:
                attrs[name] = value
        elif key == "attribute" and isinstance(value, Mapping):
            attrs.update(value)
        elif isinstance(value, str):
            params[key] = value
    return params, attrs


def to_event(pack: Pack, params: Mapping[str, str], attrs: Mapping[str, Any]) -> dict[str, Any]:
    code = params.get("service_code", "")
    if not code:
        raise Open311Error(400, "缺少 service_code (service_code is required)")
    if code not in pack.events.classes:
        raise Open311Error(404, f"服务 {code} 不存在 (unknown service_code)")
    address = params.get("address_string", "")
    unit = str(attrs.get("unit") or "") or (unit_from_address(pack, address) if address else None)
    if not unit:
        raise Open311Error(400, "无法确定网格单元:请在 address_string 中写明社区/网格名称,或给出 attribute[unit]"
                                "(the grid has no geometry: lat/long alone cannot place a request)")
    if unit not in pack.grid.units:
        raise Open311Error(400, f"网格单元 {unit} 不存在 (unknown unit)")
    location = None
    if params.get("lat") and params.get("long"):
        try:
            location = [float(params["lat"]), float(params["long"])]
        except ValueError:
            raise Open311Error(400, "lat/long 必须是数字 (lat and long must be numbers)") from None
    description = params.get("description", "")
    data = _form_data(pack, code, unit, address, location, description, attrs)
    reporter = " ".join(p for p in (params.get("last_name", ""), params.get("first_name", "")) if p)
    channel = next((c.id for c in pack.channels.values() if c.maps_to == "resident_report"), next(iter(pack.channels)))
    event: dict[str, Any] = {"id": f"open311-{uuid.uuid4()}", "class": code, "channel": channel, "unit": unit,
                             "reported_at": clock().isoformat(), "description": description,
                             "title": str(data.get("title") or description[:30]), "reporter": reporter,
                             "data": data}
    if location is not None:
        event["location"] = location
    return event


def _category(pack: Pack, code: str, f: FormField) -> str | None:
    """The form's 事件类别 choice for a service: the choice named like the class's 大类 (id or name)."""
    cls = pack.events.classes[code]
    major = pack.events.classes[cls.parent] if cls.parent else cls
    for c in f.choices:
        if c.value in (major.id, major.maps_to) or c.label == major.name:
            return c.value
    return next((c.value for c in f.choices if c.value in ("qita", "other")), None)


def _form_data(pack: Pack, code: str, unit: str, address: str, location: list[float] | None, description: str,
               attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The event form's values: Open311's standard fields fill the form's matching fields, attributes the
    rest; the forms engine then checks them like any other submission."""
    form = event_form(pack)
    if form is None:
        return {k: v for k, v in attrs.items() if k != "unit"}
    defaults: dict[str, Any] = {}
    for f in form.fields:
        if f.type == "unit":
            defaults[f.name] = unit
        elif f.type == "geopoint" and location:
            defaults[f.name] = f"{location[0]} {location[1]}"
        elif f.type == "datetime" and f.required:
            defaults[f.name] = clock().replace(tzinfo=None, microsecond=0).isoformat()
        elif f.name == "address" and address:
            defaults[f.name] = address
        elif f.name == "description" and description:
            defaults[f.name] = description
        elif f.name == "category" and f.choices:
            defaults[f.name] = _category(pack, code, f)
        elif f.name == "title" and description:
            defaults[f.name] = description[: f.max_length or 30]
    merged = {**defaults, **{k: v for k, v in attrs.items() if form.field(k) is not None}}
    outcome = Validation.of(form, pack.grid).run(raw_input(form, merged))
    if not outcome.ok:
        problems = ";".join(f"{path}: {'、'.join(msgs)}" for path, msgs in outcome.errors.items())
        raise Open311Error(400, f"表单「{form.title}」填写有误 — {problems}")
    return json.loads(json.dumps(dict(outcome.values), default=str))


def request_json(pack: Pack, row: Mapping[str, Any], full: bool) -> dict[str, Any]:
    _, is_open = state_name(pack, row["state"])
    cls = pack.events.classes.get(row["event_class"])
    dept = pack.departments.get(row["lead"]) if row["lead"] else None
    history = row.get("_last_note") or ""
    out: dict[str, Any] = {
        "service_request_id": row["id"], "status": "open" if is_open else "closed",
        "status_notes": f"{state_name(pack, row['state'])[0]}" + (f":{history}" if history else ""),
        "service_name": cls.name if cls else row["event_class"], "service_code": row["event_class"],
        "agency_responsible": dept.name if dept else (pack.grid.units[row["handler_unit"]].name
                                                      if row["handler_unit"] in pack.grid.units else ""),
        "service_notice": "", "requested_datetime": iso(row["reported_at"]),
        "updated_datetime": iso(row["updated_at"]), "expected_datetime": iso(row["due_at"]),
    }
    event = row["event"] or {}
    if full:
        loc = event.get("location")
        out.update({"description": event.get("description", ""),
                    "address": (event.get("data") or {}).get("address", ""),
                    "address_id": row["unit_code"], "zipcode": None,
                    "lat": loc[0] if loc else None, "long": loc[1] if loc else None, "media_url": None})
    return out


def endpoints(ctx: ApiContext) -> list[Endpoint]:
    db = ctx.database

    def guarded(fn):  # type: ignore[no-untyped-def]
        async def wrapper(request: Request) -> Response:
            try:
                return await fn(request)
            except Open311Error as exc:
                return o311_error(exc)
            except ApiError as exc:
                return o311_error(Open311Error(exc.status, exc.message + (
                    " — " + ";".join(f"{k}: {v}" for k, v in exc.fields.items()) if exc.fields else "")))
        wrapper.__name__ = fn.__name__
        return wrapper

    async def key_principal(request: Request, api_key: str | None, scope: str) -> Principal:
        county = ctx.county(request)
        if not api_key:
            raise Open311Error(401, "缺少 api_key (api_key is required)")
        return await ctx.check_token(county, api_key, scope)

    @guarded
    async def get_services(request: Request) -> Response:
        return UnicodeJSON(services(ctx.county(request).pack))

    @guarded
    async def get_service(request: Request) -> Response:
        pack = ctx.county(request).pack
        code = request.path_params["code"]
        if code not in pack.events.classes:
            raise Open311Error(404, f"服务 {code} 不存在 (unknown service_code)")
        return UnicodeJSON({"service_code": code, "attributes": attributes(pack)})

    @guarded
    async def post_request(request: Request) -> Response:
        county = ctx.county(request)
        pack = ctx.pack(county.slug)
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = json.loads(await request.body())
            except ValueError:
                raise Open311Error(400, "请求体不是有效的 JSON") from None
            params, attrs = _fields(body if isinstance(body, Mapping) else {})
        else:
            params, attrs = _fields(await request.form())
        principal = await key_principal(request, params.get("api_key"), "events:write")
        event = to_event(pack, params, attrs)
        intake = ctx.intake(county.slug)
        prepared = intake.prepare(event, principal, Actor(principal.actor, "api"))
        outcome = await ctx.writer.submit(prepared)
        return UnicodeJSON([{"service_request_id": outcome.case_id, "service_notice": "",
                             "account_id": None}], status_code=201)

    async def _rows(county: Any, where: list[Any], limit: int) -> list[Mapping[str, Any]]:
        def query() -> list[Mapping[str, Any]]:
            with db.engine.connect() as conn:
                return [dict(r) for r in conn.execute(select(cases).where(and_(*where))
                                                      .order_by(cases.c.reported_at.desc()).limit(limit)).mappings()]
        return await run_in_threadpool(query)

    async def _full(request: Request, county: Any) -> Principal | None:
        key = request.query_params.get("api_key")
        return await key_principal(request, key, "cases:read") if key else None

    def _scope(county: Any, principal: Principal | None, where: list[Any]) -> None:
        if principal is not None and principal.unit:
            where.append(cases.c.unit_code.in_(subtree(ctx.pack(county.slug), principal.unit)))

    @guarded
    async def get_requests(request: Request) -> Response:
        county = ctx.county(request)
        pack = ctx.pack(county.slug)
        principal = await _full(request, county)
        q = request.query_params
        where: list[Any] = [cases.c.tenant == county.slug]
        _scope(county, principal, where)
        if q.get("service_request_id"):
            where.append(cases.c.id.in_([s.strip() for s in q["service_request_id"].split(",") if s.strip()]))
        if q.get("service_code"):
            where.append(cases.c.event_class.in_(q["service_code"].split(",")))
        for name, op in (("start_date", "ge"), ("end_date", "lt")):
            if q.get(name):
                try:
                    moment = datetime.fromisoformat(q[name].replace("Z", "+00:00"))
                except ValueError:
                    raise Open311Error(400, f"{name} 不是 W3C 时间格式 (e.g. 2026-03-01T00:00:00+08:00)") from None
                moment = moment if moment.tzinfo else moment.replace(tzinfo=CHINA)
                where.append(cases.c.reported_at >= moment if op == "ge" else cases.c.reported_at < moment)
        status = q.get("status")
        if status and status not in ("open", "closed"):
            raise Open311Error(400, "status 只能是 open 或 closed")
        rows = await _rows(county, where, 1000)
        out = [request_json(pack, r, principal is not None) for r in rows]
        if status:
            out = [r for r in out if r["status"] == status]
        return UnicodeJSON(out)

    @guarded
    async def get_request(request: Request) -> Response:
        county = ctx.county(request)
        pack = ctx.pack(county.slug)
        principal = await _full(request, county)
        where: list[Any] = [cases.c.tenant == county.slug, cases.c.id == request.path_params["request_id"]]
        rows = await _rows(county, where, 1)
        if not rows or (principal is not None and principal.unit
                        and not in_subtree(pack, rows[0]["unit_code"], principal.unit)):
            raise Open311Error(404, f"服务请求 {request.path_params['request_id']} 不存在 (no such request)")
        return UnicodeJSON([request_json(pack, rows[0], principal is not None)])

    list_schema = {"type": "array", "items": {"type": "object"}}
    err = {"type": "array", "items": {"type": "object", "properties": {"code": {"type": "integer"},
                                                                        "description": {"type": "string"}}}}
    key_param = Param("api_key", "query", {"type": "string"}, "令牌(带 cases:read 时返回描述与地址)")
    return [
        Endpoint("GET", "/services.json", get_services, "open311Services", "Open311 服务列表 = 事件分类", "open311",
                 responses={200: ("services", list_schema)}),
        Endpoint("GET", "/services/{code}.json", get_service, "open311ServiceDefinition",
                 "Open311 服务定义 = 事件上报表字段", "open311",
                 params=(Param("code", "path", {"type": "string"}, "service_code = 事件分类 id", True),),
                 responses={200: ("service definition", {"type": "object"}), 404: ("unknown service", err)}),
        Endpoint("POST", "/requests.json", post_request, "open311PostRequest", "Open311 提交服务请求 = 上报事件立案",
                 "open311", scope="events:write",
                 form_body={"type": "object", "required": ["api_key", "service_code"], "properties": {
                     "api_key": {"type": "string"}, "service_code": {"type": "string"},
                     "lat": {"type": "number"}, "long": {"type": "number"}, "address_string": {"type": "string"},
                     "description": {"type": "string"}, "first_name": {"type": "string"},
                     "last_name": {"type": "string"}, "phone": {"type": "string"}, "email": {"type": "string"}},
                     "additionalProperties": {"type": "string", "description": "attribute[code]=value"}},
                 responses={201: ("created", list_schema), 400: ("error", err), 401: ("api_key", err),
                            403: ("scope", err), 404: ("unknown service", err)}),
        Endpoint("GET", "/requests.json", get_requests, "open311GetRequests", "Open311 查询服务请求 = 案件", "open311",
                 params=(key_param, Param("service_request_id", "query", {"type": "string"}, "逗号分隔"),
                         Param("service_code", "query", {"type": "string"}),
                         Param("start_date", "query", {"type": "string", "format": "date-time"}),
                         Param("end_date", "query", {"type": "string", "format": "date-time"}),
                         Param("status", "query", {"enum": ["open", "closed"]})),
                 responses={200: ("requests", list_schema), 400: ("error", err)}),
        Endpoint("GET", "/requests/{request_id}.json", get_request, "open311GetRequest", "Open311 单个服务请求",
                 "open311", params=(key_param, Param("request_id", "path", {"type": "string"}, "案件编号", True)),
                 responses={200: ("request", list_schema), 404: ("unknown request", err)}),
    ]
