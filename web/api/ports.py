"""The seam to the engines other packages own: routing, the cases service, forms and indicators.

Each ``*_port`` function resolves the engine through its public module. While an engine has not landed
(or a pack declares no such section) a small stand-in here keeps the API working and says so in its output
(``"engine": "fallback"``), so nothing silently pretends to be the real thing.
"""
from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Protocol

from wangge.core.events import Event
from wangge.core.pack.model import Pack


def optional_module(name: str) -> Any | None:
    """The module if it is installed, else None (an engine still being built)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return None
        raise


def plain(value: Any) -> Any:
    """A JSON-ready copy of a decision, a dataclass or a mapping."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.repr and not f.name.startswith("_")}
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


# ------------------------------------------------------------------------------------------- routing

class RouterPort(Protocol):
    def decide(self, event: Event) -> dict[str, Any]:
        """The routing decision as the cases service stores it (keys unit, level, lead, assist, priority,
        due / time_limit, notify, trace …; see ``wangge.core.cases.service.decision_json``)."""
        ...


@dataclass(frozen=True)
class FallbackRouter:
    """Stand-in while ``wangge.core.routing`` is absent: the case stays with the reporting unit, no
    department, due by the event class's time limit for the unit's zone."""

    pack: Pack

    def decide(self, event: Event) -> dict[str, Any]:
        unit = self.pack.grid.units[event.unit]
        limit = self.pack.events.classes[event.event_class].time_limit(unit.zone)
        return {"engine": "fallback", "unit": unit.code, "level": unit.level, "lead": None, "assist": [],
                "time_limit": str(limit) if limit else None,
                "trace": [f"流转引擎未安装 (no routing engine): 留在上报单元 {unit.name}"]}


@dataclass(frozen=True)
class EngineRouter:
    """The routing engine: ``Router.from_pack(pack).decide(event)``, stored via the cases service's
    ``decision_json`` so intake keeps exactly what the portal would keep."""

    router: Any

    def decide(self, event: Event) -> dict[str, Any]:
        from wangge.core.cases.service import decision_json  # noqa: PLC0415  (cases imports routing lazily too)

        return decision_json(self.router.decide(event))


def router_port(pack: Pack) -> RouterPort:
    module = optional_module("wangge.core.routing")
    if module is None or not hasattr(module, "Router"):
        return FallbackRouter(pack)
    return EngineRouter(module.Router.from_pack(pack))
