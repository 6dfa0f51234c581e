"""Per-application state of the API: the deployment, token lookups, intake writers. Built once by
:func:`wangge.web.api.api_routes`; nothing here is module-global, so two apps never share state."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from wangge.web.deployment import County, Deployment

from .auth import Principal, TokenStore, bearer, resolved
from .errors import ApiError, bad_json, not_found
from .intake import CountyIntake, GroupWriter
from .ports import EngineRouter


@dataclass
class ApiContext:
    deployment: Deployment
    tokens: TokenStore
    writer: GroupWriter
    observe: Any = None
    intakes: dict[str, CountyIntake] = field(default_factory=dict)

    @classmethod
    def build(cls, deployment: Deployment, token_ttl: float = 2.0, observe: Any = None) -> ApiContext:
        return cls(deployment, TokenStore(deployment.database, token_ttl), GroupWriter(deployment.database, observe=observe),
                   observe)

    def pack(self, slug: str) -> Any:
        """The county's pack in force now: publishing a new version in the portal switches the API too."""
        return self.deployment.pack(slug)

    def intake(self, slug: str) -> CountyIntake:
        """Intake for the county's current pack, with the deployment's router for it (compiled once per
        pack version and shared with the portal's pages)."""
        pack = self.pack(slug)
        cached = self.intakes.get(slug)
        if cached is None or cached.pack is not pack:
            cached = self.intakes[slug] = CountyIntake(slug, pack, EngineRouter(self.deployment.router(slug)))
        return cached

    @property
    def database(self):  # type: ignore[no-untyped-def]
        return self.deployment.database

    def county(self, request: Request) -> County:
        slug = request.path_params.get("county", "")
        county = self.deployment.county(slug)
        if county is None:
            raise not_found(f"县(区) {slug} 不存在于本部署 (unknown county)")
        return county

    async def principal(self, request: Request, county: County, scope: str | None) -> Principal:
        token = bearer(request.headers.get("authorization"))
        return await self.check_token(county, token, scope)

    async def check_token(self, county: County, token: str, scope: str | None) -> Principal:
        principal = resolved(*await self.tokens.resolve(county.slug, token))
        if scope is not None:
            principal.require(scope)
        return principal


async def json_body(request: Request) -> Any:
    body = await request.body()
    if not body:
        raise bad_json()
    try:
        # orjson: 3× faster than json.loads on an intake body; same values for every JSON document
        # (it rejects NaN/Infinity, which are not JSON, and integers beyond 64 bits — both a 400 here).
        return orjson.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise bad_json() from None


def int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, "VALIDATION", f"参数 {name} 必须是整数 (must be an integer)",
                       {name: f"{name} 必须是整数"}) from None
    if not lo <= value <= hi:
        raise ApiError(422, "VALIDATION", f"参数 {name} 应在 {lo} 到 {hi} 之间", {name: f"应在 {lo} 到 {hi} 之间"})
    return value
