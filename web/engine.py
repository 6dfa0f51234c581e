"""The portal's one door to the engine parts built beside it (routing, workflow and cases, scoring).

Each is imported here and nowhere else in ``web``, so when a part is missing the portal still serves every
page and says plainly what is not available, instead of failing at import time.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from wangge.core.pack.model import Pack


def router(pack: Pack) -> tuple[Any | None, str | None]:
    """``(Router, None)``, or ``(None, note)`` when the routing engine is not installed."""
    try:
        from wangge.core.routing import Router  # noqa: PLC0415  (optional engine part)
    except ImportError:
        return None, "流转引擎 (core/routing) 尚未安装:只校验事件,不显示去向 (routing engine not installed)"
    return Router.from_pack(pack), None


def decide(router_: Any, event: Any) -> Any:
    return router_.decide(event)


def plain(value: Any) -> Any:
    """Any engine object (dataclass, mapping, tuple) as plain JSON-like data for templates and storage."""
    if hasattr(value, "to_json"):
        return plain(value.to_json())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def decision_view(decision: Any) -> dict[str, Any] | None:
    """A decision as ``{"summary": {...}, "trace": [...]}`` whatever its exact shape."""
    if decision is None:
        return None
    data = plain(decision)
    if not isinstance(data, dict):
        return {"summary": {"decision": data}, "trace": []}
    trace = data.pop("trace", []) or []
    return {"summary": data, "trace": trace if isinstance(trace, list) else [trace]}
