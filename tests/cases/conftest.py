"""Helpers for case tests: load example packs once, build events and routing decisions, find actors."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from wangge.core.cases import act, open_case
from wangge.core.pack.loader import PackLoader
from wangge.core.pack.model import Pack
from wangge.core.store import Database
from wangge.core.workcal import SHANGHAI
from wangge.core.workflow import Actor, CaseView, matches

ROOT = Path(__file__).resolve().parents[2]
COUNTIES = ROOT / "examples" / "counties"
MONDAY = datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
_LOADER = PackLoader()


def load(name: str) -> Pack:
    return _LOADER.load(COUNTIES / name if (COUNTIES / name).exists() else Path(name))


def grid_unit(pack: Pack) -> str:
    return next(u.code for u in pack.grid.units.values() if u.level == pack.grid.levels[-1].id)


def event(pack: Pack, n: int = 1, **extra: Any) -> dict[str, Any]:
    cls = extra.pop("cls", None) or next(c.id for c in pack.events.classes.values() if c.parent and c.time_limit())
    channel = "grid_patrol" if "grid_patrol" in pack.channels else next(iter(pack.channels))
    raw = {"id": f"e{n}", "class": cls, "channel": channel, "unit": extra.pop("unit", None) or grid_unit(pack),
           "reported_at": MONDAY.isoformat(), "reporter": "resident-1", "title": f"测试事件{n}"}
    raw.update(extra)
    return raw


def decision(pack: Pack, lead: str | None = None, **extra: Any) -> dict[str, Any]:
    """A Decision as core.routing will return it (to_json form)."""
    out = {"event_id": "e1", "level": pack.grid.levels[-1].id, "unit": None,
           "lead": lead or next(iter(pack.departments), None), "assist": [], "notify": [],
           "time_limit": "5工作日", "due": None, "priority": 0, "state": None, "trace": ["test"]}
    out.update(extra)
    return out


def actor_for(pack: Pack, case: Any, action: str) -> Actor:
    """Someone who may take ``action`` on ``case`` — found from the transition's role selectors."""
    wf = pack.workflow
    t = wf.transition(action)
    if t is None:
        return Actor("nobody", "grid_worker", case.unit_code)
    view: CaseView = case.view()
    candidates: list[Actor] = [Actor("resident-1", "reporter")]
    candidates += [Actor(f"dept-{d}", "department", d) for d in pack.departments]
    for role in pack.grid.roles:
        unit = pack.grid.ancestor_at(view.unit_code, role.level)
        if unit is not None:
            candidates.append(Actor(f"{role.id}@{unit.code}", role.id, unit.code))
    ordered = [a for sel in t.roles for a in candidates if matches(sel, pack, view, a, t.scope)]
    if wf.disputes and t.kind == "arbitrate":
        ordered = [a for a in ordered if matches(wf.disputes.arbiter, pack, view, a, "any")]
    assert ordered, f"nobody may {action} in {pack.id}"
    return ordered[0]


@dataclass
class Journey:
    db: Database
    pack: Pack
    tenant: str

    def open(self, n: int = 1, dec: dict | None = None, **ev: Any):  # type: ignore[no-untyped-def]
        return open_case(self.db, self.tenant, self.pack, event(self.pack, n, **ev), dec or decision(self.pack),
                         Actor("grid-worker-1", "grid_worker", grid_unit(self.pack)), now=MONDAY)

    def do(self, case, action: str, note: str = "说明", data: dict | None = None, now: datetime = MONDAY,  # type: ignore[no-untyped-def]
           actor: Actor | None = None):
        return act(self.db, self.tenant, self.pack, case.id, action, actor or actor_for(self.pack, case, action),
                   note, data, now=now)

    def walk(self, case, *actions: str, now: datetime = MONDAY):  # type: ignore[no-untyped-def]
        for action in actions:
            case = self.do(case, action, now=now)
        return case


@pytest.fixture
def journey(database):  # type: ignore[no-untyped-def]
    def make(county: str) -> Journey:
        pack = load(county)
        return Journey(database, pack, pack.id)
    return make
