"""Hand-made case histories stored straight into ``cases`` + ``case_facts`` (as the cases service writes them),
so each indicator and score can be checked against figures computed by hand."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from wangge.core.pack.loader import PackLoader
from wangge.core.pack.model import Pack
from wangge.core.store import Database
from wangge.core.store.tables import case_facts, cases
from wangge.core.workcal import SHANGHAI

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MARCH = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
TENANT = "hecun"


def load(name: str) -> Pack:
    return PackLoader((FIXTURES,)).load(FIXTURES / name)


@dataclass
class History:
    """Builds cases with their facts; ``flush`` writes them in one transaction."""

    db: Database
    tenant: str = TENANT
    cases: list[dict[str, Any]] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)
    n: int = 0

    def case(self, unit: str, *, reported: datetime = MARCH, due: datetime | None = None,
             closed: datetime | None = None, state: str | None = None, lead: str | None = "d1",
             reporter: str = "w1", closer: str = "c1", cls: str = "mdjf_linli", channel: str = "grid_patrol",
             extra: tuple[tuple[str, datetime], ...] = (), registered: bool = True) -> str:
        self.n += 1
        cid = f"{unit}-{self.n:05d}"
        state = state or ("closed" if closed else "dispatched")
        self.cases.append(dict(
            tenant=self.tenant, id=cid, pack_id="test.hecun", pack_version="1.0.0", external_id=None,
            channel=channel, event_class=cls, ref_class=cls, unit_code=unit, zone=None, state=state, level="grid",
            handler_unit=unit, lead=lead, assist=[], priority=0, reported_at=reported, due_at=None if closed else due,
            closed_at=closed, reported_by=reporter, event={}, decision={}, seq=9, supervised=False, vars={},
            updated_at=reported))
        base = dict(tenant=self.tenant, case_id=cid, unit_code=unit, handler_unit=unit, lead=lead, reporter=reporter,
                    event_class=cls, ref_class=cls, channel=channel, zone=None, reported_at=reported, closed_at=None)
        steps = [("reported", reported, reporter), ("accepted", reported, "center")]
        if registered:
            steps.append(("registered", reported + timedelta(minutes=5), "center"))
        if closed:
            steps.append(("closed", closed, closer))
        steps += [(f, at, "center") for f, at in extra]
        for seq, (fact, at, actor) in enumerate(steps, start=1):
            self.facts.append({**base, "seq": seq, "fact": fact, "at": at, "actor": actor})
        if due is not None:
            self.facts.append({**base, "seq": 0, "fact": "due", "at": due, "actor": None, "closed_at": closed})
        return cid

    def flush(self) -> None:
        with self.db.engine.begin() as conn:
            if self.cases:
                conn.execute(insert(cases), self.cases)
            if self.facts:
                conn.execute(insert(case_facts), self.facts)
        self.cases, self.facts = [], []


@pytest.fixture
def history(database: Database) -> History:
    return History(database)


def tianmen(h: History, unit: str = "G1") -> dict[str, list[str]]:
    """天门 published figures: 972 应结案, 911 结案 of which 737 on time (174 late), 61 still open past due."""
    due = datetime(2026, 3, 20, 17, 30, tzinfo=SHANGHAI)
    out: dict[str, list[str]] = {"on_time": [], "late": [], "open": []}
    for i in range(737):
        out["on_time"].append(h.case(unit, due=due, closed=due - timedelta(hours=2 + i % 50)))
    for i in range(174):
        out["late"].append(h.case(unit, due=due, closed=due + timedelta(hours=1 + i % 40)))
    for _ in range(61):
        out["open"].append(h.case(unit, due=due))
    h.flush()
    return out
