"""Endpoint metadata kept next to each handler, and the OpenAPI 3.1 document assembled from it.

No framework introspection: every endpoint declares its method, path, scope, parameters, body schema and
responses in an :class:`Endpoint`; :func:`openapi_document` only arranges those declarations. Schemas are
plain JSON Schema 2020-12 (OpenAPI 3.1's own dialect), so the same dicts also document the API in tests.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Handler = Callable[[Request], Awaitable[Response]]
Schema = Mapping[str, Any]

ERROR_SCHEMA: Schema = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string", "description": "中文在前,英文在括号中"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "每个出错字段的中文说明 (per-field messages)"}}}},
}


@dataclass(frozen=True)
class Param:
    name: str
    where: str                     # path | query
    schema: Schema
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Endpoint:
    """One operation. ``path`` is relative to its group's base (e.g. ``/cases/{case_id}``)."""

    method: str
    path: str
    handler: Handler = field(repr=False, compare=False)
    operation_id: str
    summary: str
    tag: str
    scope: str | None = None       # the token scope required; None: no token needed
    params: tuple[Param, ...] = ()
    body: Schema | None = None     # JSON body schema
    form_body: Schema | None = None  # application/x-www-form-urlencoded body schema (Open311)
    responses: Mapping[int, tuple[str, Schema | None]] = field(default_factory=dict)
    description: str = ""

    def route(self) -> Route:
        return Route(self.path, self.handler, methods=[self.method], name=self.operation_id)


@dataclass(frozen=True)
class Group:
    """Endpoints sharing a base path such as ``/{county}/api/v1``."""

    base: str
    endpoints: tuple[Endpoint, ...]
    security: bool = True          # bearer auth (Open311 uses api_key in the body instead)


COUNTY_PARAM = Param("county", "path", {"type": "string"}, "县(区)标识,即规则包目录名 (county slug)", True)


def _operation(group: Group, ep: Endpoint) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": ep.operation_id, "summary": ep.summary, "tags": [ep.tag]}
    if ep.description:
        op["description"] = ep.description
    params = [COUNTY_PARAM, *ep.params] if "{county}" in group.base else list(ep.params)
    if params:
        op["parameters"] = [_param(p) for p in params]
    if ep.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": dict(ep.body)}}}
    elif ep.form_body is not None:
        op["requestBody"] = {"required": True,
                             "content": {"application/x-www-form-urlencoded": {"schema": dict(ep.form_body)}}}
    responses: dict[str, Any] = {}
    for status, (text, schema) in sorted(ep.responses.items()):
        entry: dict[str, Any] = {"description": text}
        if schema is not None:
            entry["content"] = {"application/json": {"schema": dict(schema)}}
        responses[str(status)] = entry
    if ep.scope is not None and group.security:
        op["security"] = [{"bearer": [ep.scope]}]
        op["x-scope"] = ep.scope
        responses.setdefault("401", {"description": "缺少、错误或已吊销的令牌 (missing, wrong or revoked token)",
                                     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
        responses.setdefault("403", {"description": "令牌权限不足或超出其网格单元 (scope or unit not allowed)",
                                     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
    else:
        op["security"] = []
    op["responses"] = responses
    return op


def _param(p: Param) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "in": p.where, "schema": dict(p.schema), "required": p.required or p.where == "path"}
    if p.description:
        out["description"] = p.description
    return out


def openapi_document(groups: list[Group], counties: list[str], version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``groups`` (paths are absolute, with ``{county}`` as a path parameter)."""
    paths: dict[str, dict[str, Any]] = {}
    for group in groups:
        for ep in group.endpoints:
            paths.setdefault(group.base + ep.path, {})[ep.method.lower()] = _operation(group, ep)
    tags = sorted({ep.tag for g in groups for ep in g.endpoints})
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "wangge 网格化服务管理 API",
            "version": version,
            "description": ("事件上报、案件、处置动作、表单与指标的 JSON 接口,以及 Open311 GeoReport v2 接口。"
                            "认证: Authorization: Bearer <令牌>;令牌按县(区)签发,带权限范围。"
                            f" 本部署的县(区): {', '.join(counties) or '(无)'}。"
                            " (JSON API for events, cases, actions, forms and indicators; Open311 GeoReport v2.)"),
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": t} for t in tags],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "wangge tokens create COUNTY NAME --scope … 生成的令牌"}},
            "schemas": {"Error": dict(ERROR_SCHEMA)},
        },
    }
