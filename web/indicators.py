"""The pack's indicators for the dashboard, from the scoring engine (``wangge.core.scoring``).

The engine computes in SQL over ``case_facts`` with the pack's ``where:`` filters and the granted appeals
applied, and every value carries its stated definition (口径). This module only shapes that for a page: which
period a request asks for, and one call for a unit together with the units one level below it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from wangge.core.pack.model import Pack
from wangge.core.scoring import (
    IndicatorValue,
    Period,
    compute_indicators,
    current_period,
    parse_period,
)
from wangge.core.store import Database
from wangge.core.workcal import SHANGHAI

MAX_CHILDREN = 30   # bars per chart: a township with hundreds of grids still gives a page a phone can load


def period_of(text: str | None, now: datetime | None = None) -> Period:
    """``?period=`` as the engine reads it (month, quarter, year or ``a..b``); the current month when absent.
    Raises ``PeriodError`` (with a message saying how to write one) for anything else."""
    text = (text or "").strip()
    return parse_period(text) if text else current_period("month", now)


def period_choices(now: datetime | None = None) -> list[tuple[str, str]]:
    """Quick picks for the period form: this and last month, this quarter, this year."""
    now = now or datetime.now(SHANGHAI)
    this = current_period("month", now)
    last = current_period("month", this.start - timedelta(days=1))
    quarter, year = current_period("quarter", now), current_period("year", now)
    return [(this.label, "本月"), (last.label, "上月"), (quarter.label, "本季度"), (year.label, "本年")]


@dataclass(frozen=True)
class UnitIndicators:
    """A unit's values (the county's when no unit) and, per indicator, the values of the units below it."""

    values: list[IndicatorValue]
    children: dict[str, list[IndicatorValue]]    # indicator id → one value per child unit, in the pack's order
    more_children: int                           # children left out of the charts (beyond MAX_CHILDREN)


def unit_indicators(db: Database, tenant: str, pack: Pack, code: str | None, period: Period) -> UnitIndicators:
    """One engine call for ``code`` and its children (each unit counts everything below it)."""
    roots = list(pack.grid.roots)
    if code is None and len(roots) == 1:
        code = roots[0]
    children = list(pack.grid.children.get(code, ())) if code else roots
    shown = children[:MAX_CHILDREN]
    values = compute_indicators(db, tenant, pack, period, ([code] if code else []) + shown + (
        [] if code else [r for r in roots if r not in shown]))
    by_unit: dict[str, list[IndicatorValue]] = {}
    for v in values:
        by_unit.setdefault(v.subject, []).append(v)
    own = by_unit.get(code, []) if code else _county_total(pack, [by_unit.get(r, []) for r in roots])
    per_indicator: dict[str, list[IndicatorValue]] = {}
    for child in shown:
        for v in by_unit.get(child, []):
            per_indicator.setdefault(v.indicator, []).append(v)
    return UnitIndicators(own, per_indicator, len(children) - len(shown))


def _county_total(pack: Pack, per_root: list[list[IndicatorValue]]) -> list[IndicatorValue]:
    """Several top units (no single root): the county is their sum — each counts everything below it."""
    if not per_root or not per_root[0]:
        return []
    out = []
    for i, first in enumerate(per_root[0]):
        same = [vals[i] for vals in per_root if i < len(vals)]
        den = None if first.denominator is None else sum(v.denominator or 0 for v in same)
        out.append(replace(first, subject="", subject_name=pack.manifest.name, level="",
                           numerator=sum(v.numerator for v in same), denominator=den))
    return out
