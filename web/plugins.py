"""The plugins each county's pack enables, running inside the portal.

Per county: one plugin manager built at start (pluggy; entry-point group ``wangge``), its startup and
shutdown hooks, the senders used by the outbox delivery loop, and the 12345 work-order endpoint when the
pack enables ``hotline_12345``. A plugin that raises or hangs never blocks intake: notifications are stored
in the outbox with the case change and delivered here, with retries, by a background task.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pluggy
from sqlalchemy import Connection
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute

from wangge.core import hooks
from wangge.core.cases import PackCache
from wangge.core.cases.escalation import tick
from wangge.core.cases.service import Observer
from wangge.core.outbox import deliver_due, plugin_observer

from .deployment import Deployment

log = logging.getLogger("wangge.web.plugins")
HOTLINE = "hotline_12345"
DELIVERY_INTERVAL = 5.0  # seconds between outbox passes; each pass sends at most DELIVERY_BATCH messages
DELIVERY_BATCH = 100
ESCALATION_INTERVAL = 30.0  # seconds between escalation ticks; deadlines are minutes apart at the finest


@dataclass(frozen=True)
class CountyPlugins:
    slug: str
    manager: pluggy.PluginManager
    context: hooks.HookContext
    senders: Mapping[str, hooks.Sender]

    @property
    def observe(self) -> Observer:
        return plugin_observer(self.manager, self.context)

    @property
    def watches_cases(self) -> bool:
        """Whether a plugin observes this county's case changes (``wangge_case_event``). The built-in plugins
        are registered for every county but act only where the pack enables them; others are registered
        only where enabled."""
        return any(impl.plugin_name not in hooks.BUILTINS or self.context.enabled(impl.plugin_name)
                   for impl in self.manager.hook.wangge_case_event.get_hookimpls())


def county_plugins(deployment: Deployment) -> dict[str, CountyPlugins]:
    out = {}
    for slug, county in deployment.counties.items():
        manager = hooks.plugin_manager(hooks.enabled_plugins(county.pack))
        context = hooks.context_for(county.pack, slug)
        out[slug] = CountyPlugins(slug, manager, context, hooks.senders(manager, context))
    return out


@dataclass(frozen=True)
class DeploymentObserver:
    """The cases service's observer for a whole deployment: each case change goes to its own county's plugins
    that observe case changes. Counties without such plugins are skipped: showing a change means reading the
    case and its history row back in the transaction, two queries per case for nothing."""

    observers: Mapping[str, Observer]

    def __call__(self, conn: Connection, tenant: str, case_id: str, seq: int) -> None:
        observe = self.observers.get(tenant)
        if observe is not None:
            observe(conn, tenant, case_id, seq)

    def watches(self, tenant: str) -> bool:
        """Whether a change in ``tenant`` goes to any plugin (writers may skip calling otherwise)."""
        return tenant in self.observers


def observer(plugins: Mapping[str, CountyPlugins]) -> DeploymentObserver:
    return DeploymentObserver({slug: county.observe for slug, county in plugins.items() if county.watches_cases})


def hotline_routes(deployment: Deployment, plugins: Mapping[str, CountyPlugins]) -> list[BaseRoute]:
    """``POST /{county}/12345/orders`` for every county whose pack enables the 12345 adapter and names a
    signing secret. Without a secret the endpoint is not opened: unsigned work orders are never accepted."""
    from wangge.plugins.hotline_12345 import hotline_routes as routes_for  # noqa: PLC0415  (optional plugin)
    from wangge.plugins.webhook import SettingsError, resolve_secret  # noqa: PLC0415

    out: list[BaseRoute] = []
    for slug, county in deployment.counties.items():
        settings = hooks.enabled_plugins(county.pack).get(HOTLINE)
        if settings is None:
            continue
        try:
            secret = resolve_secret(settings)
        except SettingsError as exc:
            log.warning("%s: 12345 接口未开放 (endpoint not opened): %s", slug, exc)
            continue
        out += routes_for(deployment.database, slug, _current_pack(deployment, slug), path=f"/{slug}/12345/orders",
                          verify_secret=secret, observe=observer(plugins))
    return out


def _current_pack(deployment: Deployment, slug: str) -> Callable[[Any], Any]:
    return lambda _request: deployment.pack(slug)


def sender_lookup(plugins: Mapping[str, CountyPlugins]) -> Callable[[str, str], hooks.Sender | None]:
    def lookup(tenant: str, kind: str) -> hooks.Sender | None:
        county = plugins.get(tenant)
        return county.senders.get(kind) if county else None
    return lookup


async def escalate_forever(deployment: Deployment, plugins: Mapping[str, CountyPlugins],
                           interval: float = ESCALATION_INTERVAL) -> None:
    """Escalate overdue cases until cancelled: one tick per interval over the deployment's counties
    (several portal processes may tick at once — claims never overlap, see core/cases/escalation.py)."""
    worker = f"portal-{os.getpid()}"
    cache = PackCache()
    tenant_ids = list(deployment.counties)
    observe = observer(plugins)
    while True:
        try:
            await run_in_threadpool(tick, deployment.database, datetime.now(timezone.utc), worker, cache=cache,
                                    tenant_ids=tenant_ids, observe=observe)
        except Exception:  # noqa: BLE001 — keep ticking after a bad pass (database restart, …)
            log.exception("escalation tick failed")
        await asyncio.sleep(interval)


async def deliver_forever(deployment: Deployment, plugins: Mapping[str, CountyPlugins],
                          interval: float = DELIVERY_INTERVAL) -> None:
    """Deliver due outbox messages until cancelled. Each pass runs in a worker thread (the sends block);
    a failing pass is logged and the loop goes on."""
    lookup = sender_lookup(plugins)
    kinds = {slug: frozenset(county.senders) for slug, county in plugins.items()}
    worker = f"portal-{os.getpid()}"
    while True:
        try:
            await run_in_threadpool(deliver_due, deployment.database, lookup, worker_id=worker, limit=DELIVERY_BATCH,
                                    kinds=kinds)
        except Exception:  # noqa: BLE001 — the loop must outlive a bad pass (database restart, …)
            log.exception("outbox delivery pass failed")
        await asyncio.sleep(interval)


def lifespan(deployment: Deployment, plugins: Mapping[str, CountyPlugins], *, deliver: bool = True):  # type: ignore[no-untyped-def]
    """Starlette lifespan: plugins' startup hooks, the outbox delivery and escalation loops (``deliver``),
    then shutdown hooks on exit."""

    @asynccontextmanager
    async def run(app: Starlette) -> AsyncIterator[None]:
        for county in plugins.values():
            for name, error in hooks.startup(county.manager, app):
                log.error("%s: plugin %s failed at startup: %s", county.slug, name, error)
        tasks = [asyncio.create_task(deliver_forever(deployment, plugins)),
                 asyncio.create_task(escalate_forever(deployment, plugins))] if deliver else []
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for county in plugins.values():
                hooks.shutdown(county.manager, app)

    return run


# -- intake channels of plugins: POST /{county}/intake/{channel_id} ----------------------------------------
INTAKE_SCOPE = "events:write"


def intake_routes(deployment: Deployment, plugins: Mapping[str, CountyPlugins], *, token_ttl: float = 2.0,
                  observe: Observer | None = None) -> list[BaseRoute]:
    """``POST /{county}/intake/{channel_id}``: a payload for an intake channel (``wangge_intake_channels``) of a
    plugin the county's pack enables, authenticated by an API token with ``events:write`` (as the API).

    The channel's ``to_event(payload, pack, settings)`` maps the payload with the plugin's own settings; the
    event is parsed against the pack, routed and opened as a case through ``wangge.core.cases.open_case``,
    idempotent by the external id (``channel.external_id(payload)``, else the event's ``external_id``; one is
    required): 201 ``{case_id, created: true}`` for a new case, 200 with the existing case on a redelivery,
    422 ``{"errors": {字段: 中文说明}}`` for a payload the adapter or the pack refuses, 401/403 for the token,
    404 for an unknown county or a channel the pack does not enable.
    """
    from starlette.requests import Request  # noqa: PLC0415
    from starlette.responses import JSONResponse  # noqa: PLC0415
    from starlette.routing import Route  # noqa: PLC0415

    from wangge.core.cases import open_case  # noqa: PLC0415
    from wangge.core.events import EventError, parse_event  # noqa: PLC0415
    from wangge.core.routing import Router  # noqa: PLC0415
    from wangge.core.workcal import as_shanghai  # noqa: PLC0415
    from wangge.core.workflow import Actor  # noqa: PLC0415

    from .api.auth import TokenStore, bearer, resolved  # noqa: PLC0415
    from .api.errors import ApiError, error_response  # noqa: PLC0415

    tokens = TokenStore(deployment.database, token_ttl)
    routers: dict[str, tuple[Any, Any]] = {}  # slug → (pack, its router): compiled once per pack version
    observe = observe or observer(plugins)

    def router_for(slug: str, pack: Any) -> Any:
        cached = routers.get(slug)
        if cached is None or cached[0] is not pack:
            cached = routers[slug] = (pack, Router.from_pack(pack))
        return cached[1]

    def unprocessable(errors: Mapping[str, str]) -> JSONResponse:
        return JSONResponse({"errors": dict(errors)}, status_code=422)

    async def receive(request: Request) -> JSONResponse:
        slug, channel_id = request.path_params["county"], request.path_params["channel_id"]
        county = plugins.get(slug)
        if deployment.county(slug) is None or county is None:
            return error_response(ApiError(404, "NOT_FOUND", f"县(区) {slug} 不存在于本部署 (unknown county)"))
        pack = deployment.pack(slug)
        context = hooks.context_for(pack, slug)
        offered = hooks.intake_channel_plugins(county.manager, context, enabled_only=True)
        if channel_id not in offered:
            return error_response(ApiError(404, "NOT_FOUND", f"接入渠道 {channel_id} 未启用:规则包没有启用提供它的插件"
                                                             " (no such intake channel for this county)"))
        try:
            token = bearer(request.headers.get("authorization"))
            principal = resolved(*await tokens.resolve(slug, token))
            principal.require(INTAKE_SCOPE)
        except ApiError as exc:
            return error_response(exc)
        try:
            payload = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError) as exc:
            return unprocessable({"报文": f"不是合法的 UTF-8 JSON (invalid JSON): {exc}"})
        if not isinstance(payload, dict):
            return unprocessable({"报文": "报文应为 JSON 对象 (a JSON object)"})
        plugin, channel = offered[channel_id]
        try:
            event = dict(channel.to_event(payload, pack, context.settings_for(plugin)))
            external = channel.external_id(payload) if channel.external_id is not None else event.get("external_id")
        except (ValueError, KeyError, TypeError) as exc:
            return unprocessable(getattr(exc, "errors", None) or {"报文": str(exc) or type(exc).__name__})
        if not external:
            return unprocessable({"external_id": "缺少外部编号,无法去重 (an external id is required)"})
        event["external_id"] = str(external)
        try:
            parsed = parse_event(event, pack)
        except EventError as exc:
            return unprocessable({f"事件.{k}": v for k, v in exc.errors.items()})
        if principal.unit and not any(u.code == principal.unit for u in pack.grid.ancestors(parsed.unit)):
            return error_response(ApiError(403, "FORBIDDEN", f"令牌 {principal.name} 仅限网格单元 {principal.unit}"
                                                             f" 及其下级,不能上报 {parsed.unit}"))
        if pack.workflow is None:
            return error_response(ApiError(409, "NO_WORKFLOW", f"规则包 {pack.id} 没有声明工作流程,不能立案"))

        def store() -> tuple[str, bool]:
            existing = _case_by_external_id(deployment.database, slug, parsed.external_id)
            if existing is not None:
                return existing, False
            now = as_shanghai(datetime.now(timezone.utc))
            case = open_case(deployment.database, slug, pack, parsed, router_for(slug, pack).decide(parsed),
                             Actor(principal.actor, "api"), now=now, observe=observe)
            # open_case returns the other delivery's case when a concurrent redelivery stored it first.
            return case.id, case.vars.get("entered_at") == now.isoformat()

        case_id, created = await run_in_threadpool(store)
        return JSONResponse({"case_id": case_id, "created": created, "channel": channel_id,
                             "external_id": parsed.external_id}, status_code=201 if created else 200)

    return [Route("/{county}/intake/{channel_id}", receive, methods=["POST"], name="plugin_intake")]


def _case_by_external_id(database: Any, tenant: str, external_id: str) -> str | None:
    from sqlalchemy import select  # noqa: PLC0415

    from wangge.core.store.tables import cases  # noqa: PLC0415

    with database.engine.connect() as conn:
        return conn.execute(select(cases.c.id).where(cases.c.tenant == tenant,
                                                     cases.c.external_id == external_id)).scalar()
