"""What goes back to the 12345 platform: 回单 when a case closes, 回访 results, 回退 and 延期.

Built from a case change (the ``cases`` row and the ``transitions`` row just written) and returned as
outbox requests of kind ``hotline_reply``, so they commit with the change and are delivered — signed,
with retries — by the outbox worker. Only cases taken in from 12345 (external_id ``12345:…``) reply.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wangge.core.hooks import OutboxRequest

from .settings import EXTERNAL_PREFIX, REPLY_KIND, HotlineSettings


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def reply_kind(pack: Any, settings: HotlineSettings, transition: Mapping[str, Any]) -> str | None:
    """回单 / 回访 / 回退 / 延期 for this transition, or None when the platform need not hear of it."""
    action, to_state = transition.get("action"), transition.get("to_state")
    workflow = getattr(pack, "workflow", None)
    if action in settings.return_actions:
        return "回退"
    if action in settings.visit_actions:
        return "回访"
    extend = settings.extend_actions or tuple(
        t.id for t in getattr(workflow, "transitions", ()) if getattr(t, "kind", "") == "extend")
    if action in extend:
        return "延期"
    closed = settings.reply_on or tuple(
        s.id for s in getattr(workflow, "states", {}).values() if s.kind in ("closed", "terminal")) or ("closed",)
    if to_state in closed and transition.get("from_state") not in closed:
        return "回单"
    return None


def reply_requests(pack: Any, settings: HotlineSettings, case: Mapping[str, Any],
                   transition: Mapping[str, Any]) -> list[OutboxRequest]:
    ext = case.get("external_id") or ""
    if not ext.startswith(EXTERNAL_PREFIX) or not settings.platform_url:
        return []
    kind = reply_kind(pack, settings, transition)
    if kind is None:
        return []
    data = transition.get("data") or {}
    note = transition.get("note") or ""
    body: dict[str, Any] = {"类型": kind, "工单编号": ext[len(EXTERNAL_PREFIX):], "案件编号": case.get("id"),
                            "承办单位": case.get("handler_unit") or case.get("unit_code"),
                            "时间": _iso(transition.get("at")), "操作人": transition.get("actor")}
    if kind == "回单":
        body.update({"答复": data.get("答复") or data.get("reply") or note, "办结时间": _iso(case.get("closed_at")
                     or transition.get("at")), "办理结果": transition.get("to_state")})
    elif kind == "回访":
        body.update({"回访满意度": data.get("回访满意度") or data.get("satisfaction") or "", "回访意见": note})
    elif kind == "回退":
        body.update({"回退原因": note or data.get("reason", "")})
    else:
        body.update({"延期原因": note or data.get("reason", ""), "新办结时限": _iso(case.get("due_at"))})
    return [OutboxRequest(REPLY_KIND, settings.platform_url, body)]
