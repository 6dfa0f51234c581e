"""The pack's declared indicators (立案率, 结案率, 按期结案率, 返工率 …) counted over stored cases.

A stand-in for the scoring engine, kept in this one module so it can be swapped for it: facts come from the
case history the cases service writes (each ``transitions`` row lists the facts of its step in
``data.facts``), deadlines from ``deadlines`` (kind ``handle``), closing from ``cases.closed_at``.

应结案 (due) = cases closed, plus open cases whose handle deadline has passed;
按期结案 (closed_on_time) = closed no later than the handle deadline (or without one);
超期 (overdue) = open past the deadline, or closed after it.
``where:`` filters of a declaration are not applied here (shown as a note on the dashboard).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Mapping

from sqlalchemy import and_, select

from wangge.core.pack.model import Indicator, Pack
from wangge.core.store import Database
from wangge.core.store.tables import cases, deadlines, transitions

FACT_NAMES = {"reported": "上报", "accepted": "受理", "registered": "立案", "dispatched": "派遣", "handled": "处置",
              "closed": "结案", "due": "应结案", "closed_on_time": "按期结案", "reworked": "返工",
              "overdue": "超期", "escalated": "升级", "visited": "回访", "satisfied": "满意"}


@dataclass(frozen=True)
class Value:
    indicator: Indicator
    numerator: int
    denominator: int

    @property
    def ratio(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def case_facts(db: Database, tenant: str, units: Iterable[str] | None,
               now: datetime | None = None) -> dict[str, tuple[str, set[str]]]:
    """``{case id: (unit code, facts)}`` for the cases that happened in ``units`` (all when None)."""
    now = now or datetime.now(timezone.utc)
    unit_list = list(units) if units is not None else None
    query = select(cases.c.id, cases.c.unit_code, cases.c.closed_at).where(cases.c.tenant == tenant)
    out: dict[str, tuple[str, set[str]]] = {}
    closed_at: dict[str, datetime | None] = {}
    with db.engine.connect() as conn:
        rows = conn.execute(query).all()
        wanted = set(unit_list) if unit_list is not None else None
        for r in rows:
            if wanted is None or r.unit_code in wanted:
                out[r.id] = (r.unit_code, {"reported", "accepted"})
                closed_at[r.id] = _utc(r.closed_at)
        for case_id, data in conn.execute(select(transitions.c.case_id, transitions.c.data)
                                          .where(transitions.c.tenant == tenant)):
            if case_id in out:
                out[case_id][1].update((data or {}).get("facts") or ())
        limits = dict(conn.execute(select(deadlines.c.case_id, deadlines.c.deadline_at).where(and_(
            deadlines.c.tenant == tenant, deadlines.c.kind == "handle"))).all())
    for case_id, (_unit, facts) in out.items():
        closed = closed_at[case_id]
        limit = _utc(limits.get(case_id))
        if closed is not None:
            facts.update(("closed", "due"))
            if limit is None or closed <= limit:
                facts.add("closed_on_time")
            else:
                facts.add("overdue")
        else:
            facts.discard("closed")
            if limit is not None and limit < now:
                facts.update(("due", "overdue"))
    return out


def compute(indicators: Mapping[str, Indicator], facts: Iterable[set[str]]) -> list[Value]:
    counts: dict[str, int] = defaultdict(int)
    for f in facts:
        for name in f:
            counts[name] += 1
    return [Value(i, counts[i.numerator.fact], counts[i.denominator.fact]) for i in indicators.values()]


def fact_counts(facts: Iterable[set[str]]) -> dict[str, int]:
    counts = {name: 0 for name in FACT_NAMES}
    for f in facts:
        for name in f:
            if name in counts:
                counts[name] += 1
    return counts


def by_child(pack: Pack, parent: str | None, data: Mapping[str, tuple[str, set[str]]]) -> dict[str, list[set[str]]]:
    """Case facts grouped by the child unit (of ``parent``; of the top when None) each case happened under."""
    children = pack.grid.children.get(parent or "", ())
    groups: dict[str, list[set[str]]] = {c: [] for c in children}
    for unit, facts in data.values():
        if unit not in pack.grid.units:
            continue
        for u in pack.grid.ancestors(unit):
            if u.code in groups:
                groups[u.code].append(facts)
                break
    return groups


def has_filters(indicators: Mapping[str, Indicator]) -> bool:
    return any(i.numerator.where_source or i.denominator.where_source for i in indicators.values())


def describe(value: Value) -> str:
    i = value.indicator
    return f"{FACT_NAMES.get(i.numerator.fact, i.numerator.fact)} {value.numerator} / " \
           f"{FACT_NAMES.get(i.denominator.fact, i.denominator.fact)} {value.denominator}"


def unit_codes_below(pack: Pack, code: str | None) -> list[str] | None:
    if code is None:
        return None
    out, stack = [], [code]
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(pack.grid.children.get(c, ()))
    return out

