"""Indicators in SQL over ``case_facts``: one GROUP BY query per distinct fact count, never a load of cases.

The engine (:func:`indicator_values`, and the scoring in score.py) reads counts through the
:class:`~.counting.FactCounter` interface; :class:`Counter` here is the SQL source for stored cases, and
``memory.MemoryCounter`` the in-memory one for rows that were never stored (a comparison's replay).

A count is grouped by where the event happened (``unit_code``) — at most one row per unit comes back — and
rolled up in Python to every ancestor through the pack's grid tree. Unit codes are not hierarchical in every
pack (generated codes like ``1499011{n:02}``), so prefixes would be wrong; the tree is always right and the
rollup costs O(units × depth). Department subjects group by 主办 (``lead``), people by ``reporter``/``actor``.

Periods select facts by their own time: a step's fact by when it happened, 上报 by when it was reported,
应结案 / 按期结案 / 超期 by the handle deadline (see facts.py). Appealed cases (申诉) are left out of the SQL;
re-judged ones are added back from their few rows with the appeal applied.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, not_, or_, select

from ..pack.model import FactCount, Indicator, Pack
from ..pack.sections.indicators import CASE_FIELDS, DERIVED
from ..store import Database
from ..store.tables import case_facts, cases, score_inputs
from ..workcal import as_shanghai
from .appeals import Appeal, granted_appeals
from .counting import (
    FactCounter,
    FactEnv,
    Inputs,
    derived_facts,
    matching,
    rejudge,
    rejudged_case_ids,
    rejudged_counts,
    rejudged_ids,
)
from .period import Period
from .where import to_sql, uses_case_row

FACT_NAMES = {"reported": "上报", "accepted": "受理", "registered": "立案", "dispatched": "派遣", "handled": "处置",
              "closed": "结案", "due": "应结案", "due_closed": "应结案中已结案", "closed_on_time": "按期结案",
              "reworked": "返工", "overdue": "超期", "escalated": "升级", "visited": "回访", "satisfied": "满意",
              "returned": "退单", "extended": "延期", "handed_off": "上交", "summoned": "吹哨", "disputed": "争议"}
GROUP_COLUMNS = {"unit": "unit_code", "department": "lead", "reporter": "reporter", "actor": "actor"}


@dataclass(frozen=True)
class IndicatorValue:
    indicator: str
    name: str
    unit: str                    # percent | ratio | count
    subject: str                 # unit code, department id or person
    subject_name: str
    level: str                   # grid level id, or department / reporter / actor
    numerator: int
    denominator: int | None      # None for a count
    definition: str              # the definition used, stated in every report
    period: str

    @property
    def value(self) -> float | None:
        if self.denominator is None:
            return float(self.numerator)
        return self.numerator / self.denominator if self.denominator else None

    def display(self) -> str:
        v = self.value
        if v is None:
            return "—"
        if self.unit == "count":
            return f"{self.numerator}"
        return f"{v * 100:.2f}%" if self.unit == "percent" else f"{v:.4f}"

    def to_json(self) -> dict[str, Any]:
        return {"indicator": self.indicator, "name": self.name, "unit": self.unit, "subject": self.subject,
                "subject_name": self.subject_name, "level": self.level, "numerator": self.numerator,
                "denominator": self.denominator, "value": self.value, "display": self.display(),
                "definition": self.definition, "period": self.period}


def describe_count(fc: FactCount) -> str:
    text = FACT_NAMES.get(fc.fact, fc.fact) + f"({fc.fact}"
    text += ",按次数" if fc.count == "events" else ""
    return text + (f",过滤: {fc.where_source}" if fc.where_source else "") + ")"


def definition(ind: Indicator) -> str:
    if ind.denominator is None:
        return f"{ind.name} = {describe_count(ind.numerator)} 计数"
    return f"{ind.name} = {describe_count(ind.numerator)} / {describe_count(ind.denominator)}"


@dataclass
class Counter:
    """Counts of one call, cached by (fact count, grouping) so indicators sharing 应结案 query it once.
    Local to one computation; never shared between calls (no global state)."""

    conn: Connection
    tenant: str
    period: Period
    now: datetime
    appeals: tuple[Appeal, ...]
    _cache: dict[tuple, dict[str, int]] = field(default_factory=dict)

    @property
    def appealed(self) -> list[str]:
        return sorted({a.case_id for a in self.appeals})

    def prefetch(self, fcs: Iterable[FactCount], by: str = "unit") -> None:
        """Count every unfiltered fact in two grouped queries (one over step facts, one over the 应结案 rows
        for all four derived facts) instead of one per fact: each scan of the period's index range is shared."""
        group_col = GROUP_COLUMNS[by]
        plain = {(fc.fact, fc.count) for fc in fcs if fc.where is None and (fc.fact, "", fc.count, by) not in self._cache}
        if not plain:
            return
        group = getattr(case_facts.c, group_col)
        cf = case_facts.c
        start, end = as_shanghai(self.period.start), as_shanghai(self.period.end)
        base = [cf.tenant == self.tenant, cf.at >= start, cf.at < end]
        if self.appeals:
            base.append(not_(cf.case_id.in_(self.appealed)))
        got: dict[tuple[str, str], dict[str, int]] = {key: {} for key in plain}
        steps = sorted({f for f, _ in plain if f not in DERIVED})
        if steps:
            rows = self.conn.execute(select(group, cf.fact, func.count(), func.count(cf.case_id.distinct()))
                                     .where(and_(*base, cf.fact.in_(steps))).group_by(group, cf.fact))
            for g, fact, events, distinct in rows:
                for count in ("events", "cases"):
                    if (fact, count) in got and g is not None:
                        got[(fact, count)][g] = int(events if count == "events" else distinct)
        if any(f in DERIVED for f, _ in plain):
            now = min(as_shanghai(self.now), end)
            closed = cf.closed_at.isnot(None)
            derived = {
                "due": func.count(),
                "due_closed": func.sum(case((and_(closed, cf.closed_at < end), 1), else_=0)),
                "closed_on_time": func.sum(case((and_(closed, cf.closed_at <= cf.at), 1), else_=0)),
                "overdue": func.sum(case((and_(cf.at < now, or_(cf.closed_at.is_(None), cf.closed_at > cf.at)), 1),
                                         else_=0)),
            }
            names = list(derived)
            rows = self.conn.execute(select(group, *derived.values()).where(and_(*base, cf.fact == "due"))
                                     .group_by(group))
            for g, *values in rows:
                for name, n in zip(names, values):
                    for count in ("events", "cases"):
                        if (name, count) in got and g is not None and n:
                            got[(name, count)][g] = int(n)
        for (fact, count), counts in got.items():
            fc = FactCount(fact, None, "", count)
            for group_value, n in _rejudged_counts(self, fc, group_col).items():
                counts[group_value] = counts.get(group_value, 0) + n
            self._cache[(fact, "", count, by)] = counts

    def counts(self, fc: FactCount, by: str = "unit") -> dict[str, int]:
        key = (fc.fact, fc.where_source, fc.count, by)
        if key not in self._cache:
            got = _sql_counts(self, fc, GROUP_COLUMNS[by])
            for group, n in _rejudged_counts(self, fc, GROUP_COLUMNS[by]).items():
                got[group] = got.get(group, 0) + n
            self._cache[key] = got
        return self._cache[key]

    def inputs(self, kind: str) -> Inputs:
        """Imported score inputs of this period (第三方满意度, 条块互评): subject → [(rater, value)]."""
        rows = self.conn.execute(select(score_inputs.c.subject, score_inputs.c.rater, score_inputs.c.value).where(
            and_(score_inputs.c.tenant == self.tenant, score_inputs.c.period == self.period.label,
                 score_inputs.c.kind == kind)))
        out: Inputs = defaultdict(list)
        for subject, rater, value in rows:
            out[subject].append((rater, float(value)))
        return dict(out)

    def case_ids(self, fc: FactCount, by: str = "unit") -> dict[str, set[str]]:
        """Case ids behind a count, by group (for explanations; only asked for when explaining)."""
        out: dict[str, set[str]] = defaultdict(set)
        group = getattr(case_facts.c, GROUP_COLUMNS[by])
        query = _filtered(self, fc, [group, case_facts.c.case_id])
        for g, cid in self.conn.execute(query):
            out[g].add(cid)
        for g, ids in _rejudged_ids(self, fc, GROUP_COLUMNS[by]).items():
            out[g] |= ids
        return out


def _column(name: str) -> Any:
    return getattr(cases.c, name) if name in CASE_FIELDS else getattr(case_facts.c, name)


def _filtered(counter: Counter, fc: FactCount, columns: list[Any]) -> Any:
    """SELECT columns FROM case_facts [JOIN cases] WHERE the fact count holds in the period."""
    cf = case_facts.c
    start, end = as_shanghai(counter.period.start), as_shanghai(counter.period.end)
    conds = [cf.tenant == counter.tenant, cf.at >= start, cf.at < end]
    if fc.fact in DERIVED:
        conds.append(cf.fact == "due")
        if fc.fact == "due_closed":
            conds += [cf.closed_at.isnot(None), cf.closed_at < end]
        elif fc.fact == "closed_on_time":
            conds += [cf.closed_at.isnot(None), cf.closed_at <= cf.at]
        elif fc.fact == "overdue":
            # past its deadline (as of now) and not closed by it
            conds += [cf.at < min(as_shanghai(counter.now), end), or_(cf.closed_at.is_(None), cf.closed_at > cf.at)]
    else:
        conds.append(cf.fact == fc.fact)
    if counter.appeals:
        conds.append(not_(cf.case_id.in_(counter.appealed)))
    query = select(*columns).select_from(case_facts)
    if fc.where is not None:
        conds.append(to_sql(fc.where.tree, _column))
        if uses_case_row(fc.where.tree):
            query = query.join(cases, and_(cases.c.tenant == cf.tenant, cases.c.id == cf.case_id))
    return query.where(and_(*conds))


def _sql_counts(counter: Counter, fc: FactCount, group_col: str) -> dict[str, int]:
    group = getattr(case_facts.c, group_col)
    counted = func.count() if fc.count == "events" or fc.fact in DERIVED else func.count(case_facts.c.case_id.distinct())
    query = _filtered(counter, fc, [group, counted]).group_by(group)
    return {g: int(n) for g, n in counter.conn.execute(query) if g is not None}


# ---------------------------------------------------------------- re-judged cases (申诉改判), in Python


def _rejudged_rows(counter: Counter) -> list[FactEnv]:
    """(fact, row env) of the re-judged cases for this period, with the appeals applied (counting.py)."""
    ids = rejudged_ids(counter.appeals)
    if not ids:
        return []
    start, end = as_shanghai(counter.period.start), as_shanghai(counter.period.end)
    now = min(as_shanghai(counter.now), end)
    rows = counter.conn.execute(
        select(case_facts, *[getattr(cases.c, c) for c in CASE_FIELDS])
        .join(cases, and_(cases.c.tenant == case_facts.c.tenant, cases.c.id == case_facts.c.case_id))
        .where(and_(case_facts.c.tenant == counter.tenant, case_facts.c.case_id.in_(ids)))
        # a fixed order (steps by seq, then the 应结案 row): an added fact takes the case's first row
        .order_by(case_facts.c.case_id, case_facts.c.fact == "due", case_facts.c.seq, case_facts.c.fact)).mappings().all()
    by_case: dict[str, list[FactEnv]] = defaultdict(list)
    for r in rows:
        env = dict(r)
        at = as_shanghai(r["at"])
        if not start <= at < end:
            continue
        if r["fact"] != "due":
            by_case[r["case_id"]].append((r["fact"], env))
            continue
        closed = as_shanghai(r["closed_at"]) if r["closed_at"] is not None else None
        by_case[r["case_id"]] += [(f, env) for f in derived_facts(at, closed, end, now)]
    return rejudge(by_case, counter.appeals)


def _rejudged_counts(counter: Counter, fc: FactCount, group_col: str) -> dict[str, int]:
    return rejudged_counts(matching(_rejudged_rows(counter), fc), fc, group_col)


def _rejudged_ids(counter: Counter, fc: FactCount, group_col: str) -> dict[str, set[str]]:
    return rejudged_case_ids(matching(_rejudged_rows(counter), fc), group_col)


# ---------------------------------------------------------------- rollup and the public function


def rollup(pack: Pack, counts: Mapping[str, int]) -> dict[str, int]:
    """Counts per unit code → counts per unit including everything below it."""
    out: dict[str, int] = defaultdict(int)
    units = pack.grid.units
    for code, n in counts.items():
        if code not in units:
            continue  # a unit removed from the grid since: counted nowhere rather than somewhere wrong
        for unit in pack.grid.ancestors(code):
            out[unit.code] += n
    return out


def subjects_at(pack: Pack, level: str, units: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(code or id, name) of the subjects at ``level``: a grid level, or department."""
    if level == "department":
        return [(d.id, d.name) for d in pack.departments.values()]
    if units is not None:
        return [(c, pack.grid.units[c].name) for c in units if c in pack.grid.units]
    return [(u.code, u.name) for u in pack.grid.units_at(level)]


def open_counter(conn: Connection, tenant: str, period: Period, now: datetime | None = None) -> Counter:
    return Counter(conn, tenant, period, as_shanghai(now or datetime.now().astimezone()), granted_appeals(conn, tenant))


def indicator_values(counter: FactCounter, pack: Pack, level: str, units: Iterable[str] | None = None,
                     indicators: Iterable[str] | None = None) -> list[IndicatorValue]:
    """Every declared indicator (or those named) for every subject at ``level`` (or the given units), counted
    by ``counter``: the SQL :class:`Counter` over stored cases or a ``MemoryCounter`` (memory.py)."""
    by = "department" if level == "department" else "reporter" if level == "reporter" else \
        "actor" if level == "actor" else "unit"
    chosen = [pack.indicators[i] for i in indicators] if indicators is not None else list(pack.indicators.values())
    unit_list = list(units) if units is not None else None
    counter.prefetch([fc for ind in chosen for fc in (ind.numerator, ind.denominator) if fc is not None], by)
    out: list[IndicatorValue] = []
    for ind in chosen:
        num = counter.counts(ind.numerator, by)
        den = counter.counts(ind.denominator, by) if ind.denominator is not None else None
        if by == "unit":
            num = rollup(pack, num)
            den = rollup(pack, den) if den is not None else None
        if by in ("unit", "department"):
            subjects = subjects_at(pack, level, unit_list)
        else:
            subjects = [(s, s) for s in sorted(set(num) | set(den or {}))]
        text = definition(ind)
        for code, name in subjects:
            lvl = pack.grid.units[code].level if by == "unit" else level
            out.append(IndicatorValue(ind.id, ind.name, ind.unit, code, name, lvl, num.get(code, 0),
                                      den.get(code, 0) if den is not None else None, text, counter.period.label))
    return out


def compute_indicators(db: Database, tenant: str, pack: Pack, period: Period, units: Iterable[str] | None = None,
                       *, level: str | None = None, now: datetime | None = None,
                       indicators: Iterable[str] | None = None) -> list[IndicatorValue]:
    """The pack's indicators for ``period``: for the given ``units`` (each with everything below it), or for
    every unit at ``level`` (a grid level id, or ``department``); default the top level."""
    level = level or (pack.grid.levels[0].id if pack.grid.levels else "department")
    with db.engine.connect() as conn:
        counter = open_counter(conn, tenant, period, now)
        return indicator_values(counter, pack, level, units, indicators)


values_for = indicator_values  # the name the engine used before counters became pluggable
