"""GET /forms, GET /forms/{form_id}, POST /forms/{form_id}/submissions — through the forms engine
(``wangge.forms.validate.Validation`` checks, ``wangge.forms.store.SubmissionStore`` stores)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from wangge.core.pack.model import Pack
from wangge.core.pack.sections.forms import Form, FormField
from wangge.forms.store import SubmissionStore
from wangge.forms.validate import Validation

from . import schemas
from .auth import denied_unit
from .context import ApiContext, json_body
from .errors import invalid, not_found
from .handlers import UnicodeJSON, api
from .intake import in_subtree
from .spec import ERROR_SCHEMA, Endpoint, Param

SCOPE = "forms:write"
JSON_TYPES = {"integer": "integer", "decimal": "number", "yes_no": "boolean", "select_multiple": "array",
              "repeat": "array"}


def form_summary(form: Form) -> dict[str, Any]:
    return {"id": form.id, "version": form.version, "title": form.title, "title_en": form.title_en,
            "subject": form.subject, "fields": sum(1 for f, _ in form.walk() if f.takes_input)}


def field_schema(f: FormField) -> dict[str, Any]:
    """One field as JSON Schema, with the Chinese label and the rules the engine applies."""
    out: dict[str, Any] = {"type": JSON_TYPES.get(f.type, "string"), "title": f.label, "x-wangge-type": f.type}
    if f.hint:
        out["description"] = f.hint
    if f.choices:
        values = [c.value for c in f.choices]
        if f.type == "select_multiple":
            out["items"] = {"enum": values}
        else:
            out["enum"] = values
        out["x-choices"] = [{"value": c.value, "label": c.label} for c in f.choices]
    if f.max_length:
        out["maxLength"] = f.max_length
    if f.is_repeat:
        out["items"] = {"type": "object", "properties": {c.name: field_schema(c) for c in f.fields if c.takes_input}}
        out["minItems"] = f.min_count
        if f.max_count is not None:
            out["maxItems"] = f.max_count
    for key, rule in (("x-relevant", f.relevant), ("x-constraint", f.constraint), ("x-required-if", f.required_if),
                      ("x-calculation", f.calculation)):
        if rule is not None:
            out[key] = rule.source
    if f.constraint_message:
        out["x-constraint-message"] = f.constraint_message
    if f.default is not None:
        out["default"] = f.default
    if f.levels:
        out["x-levels"] = list(f.levels)
    return out


def form_schema(form: Form) -> dict[str, Any]:
    fields = [f for f in form.fields if f.takes_input]
    return {**form_summary(form), "description": form.description,
            "schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                       "title": form.title, "properties": {f.name: field_schema(f) for f in fields},
                       "required": [f.name for f in fields if f.required]}}


def raw_input(form: Form, data: Mapping[str, Any]) -> dict[str, list[Any]]:
    """A JSON object as the form-post shape the engine reads (name → values; repeats as name.i.child)."""
    raw: dict[str, list[Any]] = {}
    for f in form.fields:
        value = data.get(f.name)
        if value is None:
            continue
        if f.is_repeat and isinstance(value, list):
            raw[f"{f.name}__n"] = [str(len(value))]
            for i, entry in enumerate(value):
                for child in f.fields:
                    if isinstance(entry, Mapping) and entry.get(child.name) is not None:
                        raw[f"{f.name}.{i}.{child.name}"] = _values(entry[child.name])
        else:
            raw[f.name] = _values(value)
    return raw


def _values(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [_scalar(v) for v in value]
    return [_scalar(value)]


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and len(value) == 2:   # a geopoint sent as [lat, lon]
        return f"{value[0]} {value[1]}"
    return value if isinstance(value, str) else str(value)


def _form(pack: Pack, form_id: str) -> Form:
    form = pack.forms.get(form_id)
    if form is None:
        raise not_found(f"表单 {form_id} 不存在于规则包 {pack.id} (no such form)")
    return form


def endpoints(ctx: ApiContext) -> list[Endpoint]:
    @api
    async def list_forms(request: Request) -> Response:
        county = ctx.county(request)
        pack = ctx.pack(county.slug)
        return UnicodeJSON({"items": [form_summary(f) for f in pack.forms.values()]})

    @api
    async def get_form(request: Request) -> Response:
        county = ctx.county(request)
        pack = ctx.pack(county.slug)
        return UnicodeJSON(form_schema(_form(pack, request.path_params["form_id"])))

    @api
    async def post_submission(request: Request) -> Response:
        county = ctx.county(request)
        pack = ctx.pack(county.slug)
        principal = await ctx.principal(request, county, SCOPE)
        form = _form(pack, request.path_params["form_id"])
        body = await json_body(request)
        if not isinstance(body, Mapping) or not isinstance(body.get("data"), Mapping):
            raise invalid({"data": "请把表单字段放在 data 对象中 (put the fields under data)"})
        unknown = sorted(set(body) - set(schemas.FORM_SUBMISSION["properties"]))
        if unknown:
            raise invalid({"$": f"未知字段 {', '.join(unknown)} (unknown keys)"})
        outcome = Validation.of(form, pack.grid).run(raw_input(form, body["data"]))
        if not outcome.ok:
            raise invalid({path: ";".join(msgs) for path, msgs in outcome.errors.items()},
                          f"表单「{form.title}」填写有误,请按字段修改 (invalid submission)")
        unit = next((outcome.values.get(f.name) for f in form.fields if f.type == "unit"), None) or body.get("unit")
        if principal.unit and (not unit or unit not in pack.grid.units
                               or not in_subtree(pack, str(unit), principal.unit)):
            raise denied_unit(principal, str(unit or "(未填写)"))
        store = SubmissionStore(ctx.database, county.slug)
        saved = await run_in_threadpool(store.save, pack, form, outcome.values,
                                        submitted_by=str(body.get("submitted_by") or principal.actor))
        return UnicodeJSON({"id": saved.id, "form_id": form.id, "form_version": form.version,
                            "submitted_at": saved.submitted_at.isoformat() if saved.submitted_at else None,
                            "data": dict(outcome.values)}, status_code=201)

    form_param = Param("form_id", "path", {"type": "string"}, "表单 id", True)
    return [
        Endpoint("GET", "/forms", list_forms, "listForms", "表单列表 (forms of the pack)", "forms",
                 responses={200: ("表单", {"type": "object", "properties": {"items": {"type": "array", "items": schemas.FORM_SUMMARY}}})}),
        Endpoint("GET", "/forms/{form_id}", get_form, "getForm", "表单结构:字段的 JSON Schema (form schema)", "forms",
                 params=(form_param,), responses={200: ("表单结构", {"type": "object"}), 404: ("表单不存在", ERROR_SCHEMA)}),
        Endpoint("POST", "/forms/{form_id}/submissions", post_submission, "postFormSubmission",
                 "提交表单 (submit a form; validated by the forms engine)", "forms", scope=SCOPE, params=(form_param,),
                 body=schemas.FORM_SUBMISSION,
                 responses={201: ("已保存", schemas.SUBMISSION_RESULT), 404: ("表单不存在", ERROR_SCHEMA),
                            422: ("字段错误,fields 中逐项给出中文说明", ERROR_SCHEMA)}),
    ]
