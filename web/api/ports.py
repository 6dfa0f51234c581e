"""The API's view of the router: decisions as the cases service stores them (``decision_json``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

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
    """The routing engine: ``Router.from_pack(pack).decide(event)`` as the cases service's ``decision_json``
    stores it, so intake keeps exactly what the portal would keep. ``Router.decide_json`` builds that dict
    directly (tests/routing/test_decide_json.py compares the two)."""

    router: Router

    def decide(self, event: Event) -> dict[str, Any]:
        return self.router.decide_json(event)


def router_port(pack: Pack) -> RouterPort:
    return EngineRouter(Router.from_pack(pack))
