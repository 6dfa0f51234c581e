"""彭李街道 plugin for wangge: an SMS gateway sender, a local expression function, emergency texts.

Illustrative: 彭李's real SMS gateway API is not published; this one takes a JSON POST.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from wangge.core.expr import Function
from wangge.core.hooks import HookContext, OutboxMessage, OutboxRequest, hookimpl

NAME = "pengli_sms"
STREET = "371602008"  # 彭李街道's unit code; communities are STREET + 3 digits


@dataclass(frozen=True)
class SmsSender:
    gateway_url: str
    sign: str = "彭李街道"
    timeout: float = 5.0

    def send(self, message: OutboxMessage) -> None:
        content = message.payload.get("text") or message.payload.get("title") or str(dict(message.payload))
        response = httpx.post(self.gateway_url, json={"mobile": message.target, "content": f"【{self.sign}】{content}",
                                                      "sign": self.sign, "id": message.id}, timeout=self.timeout)
        # The gateway answers 200 with {"code": 0} when it accepted the text; anything else is a failure
        # the outbox retries.
        if response.status_code != 200 or response.json().get("code") != 0:
            raise RuntimeError(f"短信网关拒绝: HTTP {response.status_code} {response.text[:200]}")


def pengli_community(unit: Any) -> int | None:
    """The community number (1–9) of a 彭李 unit code, None outside 彭李 or above the communities."""
    code = str(unit or "")
    if not code.startswith(STREET) or len(code) < len(STREET) + 3:
        return None
    return int(code[len(STREET):len(STREET) + 3])


@hookimpl
def wangge_notification_senders(context: HookContext) -> dict[str, SmsSender]:
    settings = context.settings_for(NAME)
    if not settings.get("gateway_url"):
        return {}
    return {"sms": SmsSender(str(settings["gateway_url"]), str(settings.get("sign", "彭李街道")),
                             float(settings.get("timeout", 5)))}


@hookimpl
def wangge_expression_functions(context: HookContext) -> list[Function]:
    return [Function("pengli_community", pengli_community, 1, 1,
                     js=("function (u) { var c = String(u == null ? '' : u); if (c.indexOf('371602008') !== 0"
                         " || c.length < 12) { return null; } return parseInt(c.substr(9, 3), 10); }"),
                     summary="彭李单元编码所属社区序号 (1–9)", summary_en="the 彭李 community number of a unit code")]


@hookimpl
def wangge_case_event(context: HookContext, case: Mapping[str, Any], transition: Mapping[str, Any]) -> list[OutboxRequest]:
    settings = context.settings_for(NAME)
    event = case.get("event") or {}
    if transition.get("action") != "open" or event.get("urgency") != "emergency":
        return []
    text = f"突发事件:{event.get('title') or case.get('event_class')}({case.get('unit_code')}),请立即处置"
    return [OutboxRequest("sms", str(phone), {"text": text}) for phone in settings.get("leaders") or ()]


@hookimpl
def wangge_check_pack(context: HookContext) -> list[str]:
    if not context.enabled(NAME):
        return []
    return [] if context.settings_for(NAME).get("gateway_url") else ["pengli_sms: 缺少 gateway_url(短信网关地址)"]
