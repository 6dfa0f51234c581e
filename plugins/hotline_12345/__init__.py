"""12345 政务服务便民热线 adapter: work orders in, 回单/回访/回退/延期 back out.

- :func:`receive_order` takes a work order in (idempotent by 工单编号) through the cases service;
  :func:`order_to_event` is the pure mapping onto a pack's event; :func:`hotline_routes` is the HTTP
  endpoint for the portal.
- Replies go out through the outbox as ``hotline_reply`` messages, signed like our webhooks.
- 110/119/120/122 orders are refused: they stay separate (国办发〔2020〕53号).

Settings and the field table: docs/plugins.md.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wangge.core.hooks import HookContext, IntakeChannel, OutboxRequest, hookimpl

from .intake import Intake, find_case, receive_order, settings_of
from .mapping import external_id, map_class, map_unit, order_to_event
from .order import FIELDS, REQUEST_TYPES, OrderError, WorkOrder, parse_order
from .replies import reply_kind, reply_requests
from .routes import hotline_routes
from .settings import NAME, REPLY_KIND, HotlineSettings, SettingsProblem, parse_settings, settings_problems

__all__ = ["FIELDS", "NAME", "REPLY_KIND", "REQUEST_TYPES", "HotlineSettings", "Intake", "OrderError",
           "SettingsProblem", "WorkOrder", "external_id", "find_case", "hotline_routes", "map_class", "map_unit",
           "order_to_event", "parse_order", "parse_settings", "receive_order", "reply_kind", "reply_requests",
           "settings_of", "settings_problems"]


def _settings(context: HookContext) -> HotlineSettings | None:
    if not context.enabled(NAME):
        return None
    return parse_settings(context.settings_for(NAME), context.pack)


@hookimpl
def wangge_intake_channels(context: HookContext) -> list[IntakeChannel]:
    return [IntakeChannel(NAME, "12345政务服务便民热线", lambda payload, pack, settings: order_to_event(
        payload, pack, settings), lambda payload: external_id(parse_order(payload).order_no))]


@hookimpl
def wangge_notification_senders(context: HookContext) -> dict[str, Any]:
    settings = _settings(context)
    if settings is None or not settings.platform_url:
        return {}
    from wangge.plugins.webhook import WebhookSender, resolve_secret

    secret = resolve_secret({"secret_env": settings.secret_env, "secret": settings.secret})
    return {REPLY_KIND: WebhookSender(secret, settings.timeout, user_agent="wangge-12345/1")}


@hookimpl
def wangge_case_event(context: HookContext, case: Mapping[str, Any],
                      transition: Mapping[str, Any]) -> list[OutboxRequest]:
    settings = _settings(context)
    return [] if settings is None else reply_requests(context.pack, settings, case, transition)


@hookimpl
def wangge_check_pack(context: HookContext) -> list[str]:
    if not context.enabled(NAME):
        return []
    raw = context.settings_for(NAME)
    problems = [f"hotline_12345: {p}" for p in settings_problems(raw, context.pack)]
    if not raw.get("platform_url"):
        problems.append("hotline_12345: 未设置 platform_url,回单和回访结果不会回传 12345 平台 (replies are off)")
    return problems
