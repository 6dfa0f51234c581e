"""The plugins each county's pack enables, running inside the portal.

Per county: one plugin manager built at start (pluggy; entry-point group ``wangge``), its startup and
shutdown hooks, the senders used by the outbox delivery loop, and the 12345 work-order endpoint when the
pack enables ``hotline_12345``. A plugin that raises or hangs never blocks intake: notifications are stored
in the outbox with the case change and delivered here, with retries, by a background task.
"""
from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

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


def county_plugins(deployment: Deployment) -> dict[str, CountyPlugins]:
    out = {}
    for slug, county in deployment.counties.items():
        manager = hooks.plugin_manager(hooks.enabled_plugins(county.pack))
        context = hooks.context_for(county.pack, slug)
        out[slug] = CountyPlugins(slug, manager, context, hooks.senders(manager, context))
    return out


def observer(plugins: Mapping[str, CountyPlugins]) -> Observer:
    """One observer for the whole deployment: each case change goes to its own county's plugins."""

    def observe(conn: Connection, tenant: str, case_id: str, seq: int) -> None:
        county = plugins.get(tenant)
        if county is not None:
            county.observe(conn, tenant, case_id, seq)

    return observe


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
    worker = f"portal-{os.getpid()}"
    while True:
        try:
            await run_in_threadpool(deliver_due, deployment.database, lookup, worker_id=worker, limit=DELIVERY_BATCH)
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
