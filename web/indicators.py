"""The pack's declared indicators (立案率, 结案率, 按期结案率, 返工率 …) for the portal, from the scoring engine.

Facts come from ``case_facts`` — the rows the cases service writes in each step's transaction and the engine
(``wangge.core.scoring``) aggregates in SQL — with the engine's definitions: 应结案 = the handle deadline,
按期结案 = closed no later than it, 超期 = past it and not closed by it. :func:`engine_values` is the engine
itself (SQL, ``where:`` filters and appeals applied); :func:`case_facts` / :func:`compute` keep the per-case
interface the dashboard pages were built on, over the same rows.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, select
from wangge.core.pack.model import Indicator, Pack
from wangge.core.scoring import FACT_NAMES as ENGINE_FACT_NAMES
from wangge.core.scoring import IndicatorValue, Period, compute_indicators
from wangge.core.store import Database
from wangge.core.store.tables import case_facts as facts_table
from wangge.core.workcal import as_shanghai

FACT_NAMES = dict(ENGINE_FACT_NAMES)


@dataclass(frozen=True)
class Value:
    indicator: Indicator
    numerator: int
    denominator: int | None

    @property
    def ratio(self) -> float | None:
        if self.denominator is None:
            return float(self.numerator)
        return self.numerator / self.denominator if self.denominator else None


def engine_values(db: Database, tenant: str, pack: Pack, period: Period, units: Iterable[str] | None = None,
                  level: str | None = None) -> list[IndicatorValue]:
    """The scoring engine's values (SQL; where-filters and appeals applied; each states its definition)."""
    return compute_indicators(db, tenant, pack, period, units, level=level)


def case_facts(db: Database, tenant: str, units: Iterable[str] | None,
               now: datetime | None = None) -> dict[str, tuple[str, set[str]]]:
    """``{case id: (unit code, facts)}`` for the cases that happened in ``units`` (all when None)."""
    now = as_shanghai(now or datetime.now(UTC))
    wanted = set(units) if units is not None else None
    cf = facts_table.c
    out: dict[str, tuple[str, set[str]]] = {}
    with db.engine.connect() as conn:
        rows = conn.execute(select(cf.case_id, cf.unit_code, cf.fact, cf.at, cf.closed_at)
                            .where(and_(cf.tenant == tenant)))
        for case_id, unit, fact, at, closed_at in rows:
            if wanted is not None and unit not in wanted:
                continue
            facts = out.setdefault(case_id, (unit, set()))[1]
            if fact != "due":
                facts.add(fact)
                continue
            at = as_shanghai(at)
            closed = as_shanghai(closed_at) if closed_at is not None else None
            if closed is not None:
                facts.update(("due", "due_closed"))
                facts.add("closed_on_time" if closed <= at else "overdue")
            elif at < now:
                facts.update(("due", "overdue"))
    return out


def compute(indicators: Mapping[str, Indicator], facts: Iterable[set[str]]) -> list[Value]:
    counts: dict[str, int] = defaultdict(int)
    for f in facts:
        for name in f:
            counts[name] += 1
    # Rates only: counts (上报数 …) are in the fact table of the page, not shown as a percentage.
    return [Value(i, counts[i.numerator.fact], counts[i.denominator.fact])
            for i in indicators.values() if i.denominator is not None]


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
    return any(i.numerator.where_source or (i.denominator is not None and i.denominator.where_source)
               for i in indicators.values())


def describe(value: Value) -> str:
    i = value.indicator
    if i.denominator is None:
        return f"{FACT_NAMES.get(i.numerator.fact, i.numerator.fact)} {value.numerator}"
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

