"""Counting facts in memory: the same indicators and scores as the SQL counter, over rows built elsewhere.

A comparison replays 100,000 events through a pack without a database; writing them into one just to count
them would cost more than the replay. ``MemoryCounter`` takes rows shaped like ``case_facts`` rows and
answers the engine's questions (:class:`~.counting.FactCounter`) exactly as ``indicators.Counter`` answers
them in SQL: the same period test (``start <= at < end``), the same derived facts of the 应结案 row
(:func:`~.counting.derived_facts`), the same ``where:`` expression (the subset where.py translates to SQL,
tested here on the row), the same appeals. ``tests/scoring/test_memory.py`` checks every indicator and score
against the SQL counter on the same cases.

A row is a tuple ``(case_id, fact, at, closed_at, fields)``: ``fields`` maps the other columns (unit_code,
handler_unit, lead, actor, reporter, event_class, ref_class, channel, zone) and the case fields a ``where:``
may read (state, level, priority, supervised, external_id); a missing one reads as null. Many rows may share
one ``fields`` mapping (a case's rows do in a replay), which keeps 500,000 rows cheap. Times are aware
datetimes, or minutes after ``axis`` when the rows come from a replay's minute axis (half a million datetimes
would cost more than the counting).
"""
from __future__ import annotations

from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter, methodcaller
from typing import Any

from ..pack.model import FactCount
from ..pack.sections.indicators import DERIVED
from ..workcal import as_shanghai
from .appeals import Appeal
from .counting import (
    FactEnv,
    Inputs,
    appealed_ids,
    derived_facts,
    matching,
    rejudge,
    rejudged_case_ids,
    rejudged_counts,
    rejudged_ids,
)
from .indicators import GROUP_COLUMNS
from .period import Period

FactRow = tuple[str, str, Any, Any, Mapping[str, Any]]   # (case_id, fact, at, closed_at, fields)
_CASE_ID, _AT, _FIELDS = itemgetter(0), itemgetter(2), itemgetter(4)
ROW_COLUMNS = ("case_id", "fact", "at", "closed_at")


def rows_from_mappings(rows: Iterable[Mapping[str, Any]]) -> list[FactRow]:
    """``case_facts`` rows as mappings (e.g. read back from the table, joined with the case fields) → rows.
    Times are made aware (SQLite hands back naive Beijing times, as ``as_shanghai`` reads them in SQL)."""
    out: list[FactRow] = []
    for r in rows:
        closed = r.get("closed_at")
        out.append((r["case_id"], r["fact"], as_shanghai(r["at"]), as_shanghai(closed) if closed is not None else None,
                    r))
    return out


def group_by_fact(rows: Iterable[FactRow]) -> dict[str, list[FactRow]]:
    out: dict[str, list[FactRow]] = defaultdict(list)
    for row in rows:
        out[row[1]].append(row)
    return dict(out)


@dataclass
class MemoryCounter:
    """Counts of one computation over in-memory rows, cached like the SQL counter's (no global state).

    ``facts`` holds the rows by fact name (``group_by_fact``); ``score_inputs`` the imported inputs by kind
    (``{"satisfaction": {subject: [(rater, value)]}}``), empty when there are none."""

    facts: Mapping[str, Sequence[FactRow]]
    period: Period
    now: datetime
    appeals: tuple[Appeal, ...] = ()
    score_inputs: Mapping[str, Mapping[str, Sequence[tuple[str, float]]]] = field(default_factory=dict)
    axis: datetime | None = None
    _cache: dict[tuple, Any] = field(default_factory=dict)
    # in period, appealed cases left out; by fact, and by "fact|where" once filtered
    _rows: dict[str, list[FactRow]] = field(default_factory=dict)
    _where: dict[str, dict[tuple, bool]] = field(default_factory=dict)   # filter result by the values it reads
    _rejudged: list[FactEnv] | None = None

    @classmethod
    def from_rows(cls, rows: Iterable[FactRow], period: Period, now: datetime, **kwargs: Any) -> MemoryCounter:
        return cls(group_by_fact(rows), period, now, **kwargs)

    @property
    def appealed(self) -> list[str]:
        return sorted(appealed_ids(self.appeals))

    # -- the engine's interface -----------------------------------------------------------------------
    def prefetch(self, fcs: Iterable[FactCount], by: str = "unit") -> None:
        for fc in fcs:  # counting is one pass per fact in memory: nothing to batch, just warm the cache
            self.counts(fc, by)

    def counts(self, fc: FactCount, by: str = "unit") -> dict[str, int]:
        key = (fc.fact, fc.where_source, fc.count, by)
        got = self._cache.get(key)
        if got is None:
            col = GROUP_COLUMNS[by]
            rows = self._matching(fc)
            # SQL: count(*) for events and the derived facts, count(distinct case_id) for cases — the same
            # number when no case has the fact twice in the period (the usual case; checked once per list).
            if fc.count == "events" or fc.fact in DERIVED or self._once_per_case(rows):
                tally = Tally(map(methodcaller("get", col), map(_FIELDS, rows)))   # C loops: 100,000s of rows
            else:
                tally = Tally([g for g, _ in {(r[4].get(col), r[0]) for r in rows}])
            tally.pop(None, None)  # SQL drops the null group
            got = dict(tally)
            if self.appeals:
                for group, n in rejudged_counts(matching(self._rejudged_rows(), fc), fc, col).items():
                    got[group] = got.get(group, 0) + n
            self._cache[key] = got
        return got

    def case_ids(self, fc: FactCount, by: str = "unit") -> dict[str, set[str]]:
        col = GROUP_COLUMNS[by]
        out: dict[str, set[str]] = defaultdict(set)
        for r in self._matching(fc):
            out[r[4].get(col)].add(r[0])  # type: ignore[index]
        if self.appeals:
            for g, ids in rejudged_case_ids(matching(self._rejudged_rows(), fc), col).items():
                out[g] |= ids
        return out

    def _once_per_case(self, rows: list[FactRow]) -> bool:
        key = ("once", id(rows))   # lists live in self._rows for the counter's life, so their ids are stable
        once = self._cache.get(key)
        if once is None:
            once = self._cache[key] = len(set(map(_CASE_ID, rows))) == len(rows)
        return once  # type: ignore[no-any-return]

    def inputs(self, kind: str) -> Inputs:
        return {subject: list(values) for subject, values in self.score_inputs.get(kind, {}).items()}

    # -- rows -------------------------------------------------------------------------------------------
    def _bounds(self) -> tuple[Any, Any, Any]:
        """Period start, end and now (capped at end) on the rows' time scale."""
        key = ("bounds",)
        if key not in self._cache:
            start, end = as_shanghai(self.period.start), as_shanghai(self.period.end)
            now = min(as_shanghai(self.now), end)
            if self.axis is not None:
                axis = as_shanghai(self.axis)
                start, end, now = ((t - axis).total_seconds() / 60.0 for t in (start, end, now))
            self._cache[key] = (start, end, now)
        return self._cache[key]  # type: ignore[no-any-return]

    def _fact_rows(self, fact: str) -> list[FactRow]:
        """Rows of ``fact`` (a step fact, or one derived from the 应结案 rows) in the period."""
        rows = self._rows.get(fact)
        if rows is not None:
            return rows
        if fact not in DERIVED:
            rows = self._rows[fact] = self._period_rows(fact)
            return rows
        _, end, now = self._bounds()
        due = self._period_rows("due")
        # The conditions of counting.derived_facts (and of the SQL counter's CASE expressions), one list
        # comprehension per derived fact: no function call per row for 100,000s of rows.
        self._rows.update(due=due, due_closed=[r for r in due if r[3] is not None and r[3] < end],
                          closed_on_time=[r for r in due if r[3] is not None and r[3] <= r[2]],
                          overdue=[r for r in due if r[2] < now and (r[3] is None or r[3] > r[2])])
        return self._rows[fact]

    def _period_rows(self, fact: str) -> list[FactRow]:
        """The stored rows of ``fact`` with ``start <= at < end``, appealed cases left out."""
        start, end, _ = self._bounds()
        rows = list(self.facts.get(fact, ()))
        # All rows inside the period (a replay's are): two C-level scans instead of a test per row.
        if rows and not (start <= min(map(_AT, rows)) and max(map(_AT, rows)) < end):
            rows = [r for r in rows if start <= r[2] < end]
        out = appealed_ids(self.appeals)
        if out:
            rows = [r for r in rows if r[0] not in out]
        return rows

    def _matching(self, fc: FactCount) -> list[FactRow]:
        """Rows of the fact count in the period; filtered once per (fact, where) and kept."""
        rows = self._fact_rows(fc.fact)
        if fc.where is None:
            return rows
        kept = self._rows.get(f"{fc.fact}|{fc.where_source}")
        if kept is not None:
            return kept
        names = tuple(sorted(fc.where.variables))
        memo = self._where.setdefault(fc.where_source, {})
        out: list[FactRow] = []
        for r in rows:
            fields = r[4]
            key = tuple([fields.get(n) for n in names])
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = bool(fc.where.test(dict(zip(names, key))))
            if hit:
                out.append(r)
        self._rows[f"{fc.fact}|{fc.where_source}"] = out
        return out

    def _rejudged_rows(self) -> list[FactEnv]:
        """The re-judged cases' facts in the period with their appeals applied, as the SQL counter does."""
        if self._rejudged is None:
            ids = set(rejudged_ids(self.appeals))
            start, end, now = self._bounds()
            mine = [r for rows in self.facts.values() for r in rows if r[0] in ids and start <= r[2] < end]
            # The order the SQL counter reads them in: step rows by seq, then the 应结案 row.
            mine.sort(key=lambda r: (r[0], r[1] == "due", r[4].get("seq") or 0, r[1]))
            by_case: dict[str, list[FactEnv]] = defaultdict(list)
            for r in mine:
                env = {**r[4], "case_id": r[0], "fact": r[1], "at": r[2], "closed_at": r[3]}
                facts = derived_facts(r[2], r[3], end, now) if r[1] == "due" else [r[1]]
                by_case[r[0]] += [(f, env) for f in facts]
            self._rejudged = rejudge(by_case, self.appeals)
        return self._rejudged
