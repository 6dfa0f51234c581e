"""wangge JSON API and Open311 GeoReport v2 (``wangge.web.api``).

``api_routes(deployment)`` returns absolute routes the portal mounts as they are:

* ``/{county}/api/v1/…``       the JSON API (bearer tokens; see docs/api.md)
* ``/{county}/open311/v2/…``   Open311 GeoReport v2 (JSON)
* ``/openapi.json``            the OpenAPI 3.1 document of both
* ``/{county}/api/v1/openapi.json``  the same document for one county (its server URL set)

``api_app(deployment)`` wraps them in a bare Starlette app (benchmarks, tests, an API-only process).
"""
from __future__ import annotations

import copy
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from wangge.web.deployment import Deployment

from . import cases, events, forms, indicators, open311, pack_info
from .context import ApiContext
from .handlers import UnicodeJSON, api
from .spec import Group, openapi_document

API_BASE = "/{county}/api/v1"
OPEN311_BASE = "/{county}/open311/v2"


def groups(ctx: ApiContext) -> list[Group]:
    json_api = [*events.endpoints(ctx), *cases.endpoints(ctx), *forms.endpoints(ctx),
                *indicators.endpoints(ctx), *pack_info.endpoints(ctx)]
    return [Group(API_BASE, tuple(json_api)), Group(OPEN311_BASE, tuple(open311.endpoints(ctx)), security=False)]


def _version() -> str:
    try:
        return version("wangge")
    except PackageNotFoundError:
        return "0"


def api_routes(deployment: Deployment, *, token_ttl: float = 2.0, observe: Any = None) -> list[BaseRoute]:
    """Routes for the portal (``create_app`` mounts them before its own ``/{county}/…`` pages). ``observe``
    (the cases service's observer, e.g. the portal's plugins) sees every case change the API stores."""
    ctx = ApiContext.build(deployment, token_ttl, observe)
    parts = groups(ctx)
    document = openapi_document(parts, sorted(deployment.counties), _version())

    async def openapi(_: Request) -> Response:
        return UnicodeJSON(document)

    @api
    async def county_openapi(request: Request) -> Response:
        county = ctx.county(request)
        doc: dict[str, Any] = copy.deepcopy(document)   # per request: never mutate the shared one
        doc["servers"] = [{"url": f"/{county.slug}", "description": county.pack.manifest.name}]
        doc["paths"] = {path.replace("/{county}", "", 1): ops for path, ops in document["paths"].items()}
        for ops in doc["paths"].values():
            for op in ops.values():
                params = [p for p in op.pop("parameters", []) if p["name"] != "county"]
                if params:
                    op["parameters"] = params
        return UnicodeJSON(doc)

    routes: list[BaseRoute] = [Route("/openapi.json", openapi, name="openapi")]
    for group in parts:
        inner: list[BaseRoute] = [ep.route() for ep in group.endpoints]
        if group.base == API_BASE:
            inner.insert(0, Route("/openapi.json", county_openapi, name="county_openapi"))
        routes.append(Mount(group.base, routes=inner))
    return routes


def api_app(deployment: Deployment, *, token_ttl: float = 2.0, observe: Any = None) -> Starlette:
    return Starlette(routes=api_routes(deployment, token_ttl=token_ttl, observe=observe))


__all__ = ["API_BASE", "OPEN311_BASE", "api_app", "api_routes"]
