"""The API's view of the router: decisions as the cases service stores them (``decision_json``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from wangge.core.cases.service import decision_json
from wangge.core.events import Event
from wangge.core.pack.model import Pack
from wangge.core.routing import Router

# ------------------------------------------------------------------------------------------- routing

class RouterPort(Protocol):
    def decide(self, event: Event) -> dict[str, Any]:
        """The routing decision as the cases service stores it (keys unit, level, lead, assist, priority,
        due / time_limit, notify, trace …; see ``wangge.core.cases.service.decision_json``)."""
        ...


@dataclass(frozen=True)
class EngineRouter:
    """The routing engine: ``Router.from_pack(pack).decide(event)``, stored via the cases service's
    ``decision_json`` so intake keeps exactly what the portal would keep."""

    router: Any

    def decide(self, event: Event) -> dict[str, Any]:
        return decision_json(self.router.decide(event))


def router_port(pack: Pack) -> RouterPort:
    return EngineRouter(Router.from_pack(pack))
