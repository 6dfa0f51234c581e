"""What the indicator and scoring engine needs from a source of facts, and the rules every source shares.

Two sources implement :class:`FactCounter`: the SQL ``Counter`` over stored ``case_facts`` rows
(indicators.py) and the in-memory ``MemoryCounter`` over rows built elsewhere, e.g. by a comparison replay
(memory.py). The engine (``values_for``, ``_score_scheme``) only talks to this interface, so one definition
of an indicator or a scoring rule gives one answer whichever source counted it.

The pieces both sources must get identical live here, written once: which derived facts an 应结案 row stands
for (:func:`derived_facts`, the same conditions the SQL counter writes as CASE expressions), and how a
re-judged case's facts are changed by its appeals (:func:`rejudge`, :func:`rejudged_counts`).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from ..pack.model import FactCount
from .appeals import Appeal
from .period import Period

# (fact, row) pairs: a row is a mapping of case_facts columns plus the case fields a ``where:`` may read.
FactEnv = tuple[str, Mapping[str, Any]]
Inputs = dict[str, list[tuple[str, float]]]   # subject → [(rater, value)] of one kind of score input


class FactCounter(Protocol):
    """Counts of facts in one period, grouped by unit, 主办 department, reporter or actor (``by``)."""

    period: Period
    now: datetime
    appeals: tuple[Appeal, ...]

    @property
    def appealed(self) -> list[str]: ...

    def prefetch(self, fcs: Iterable[FactCount], by: str = "unit") -> None: ...

    def counts(self, fc: FactCount, by: str = "unit") -> dict[str, int]: ...

    def case_ids(self, fc: FactCount, by: str = "unit") -> dict[str, set[str]]: ...

    def inputs(self, kind: str) -> Inputs: ...


def derived_facts(at: Any, closed_at: Any, end: Any, now: Any) -> list[str]:
    """The facts one 应结案 row (deadline ``at``, first close ``closed_at``) stands for in a period ending
    ``end``, as of ``now`` (already capped at ``end``). Times may be datetimes or minutes on one axis."""
    out = ["due"]
    if closed_at is not None and closed_at < end:
        out.append("due_closed")
    if closed_at is not None and closed_at <= at:
        out.append("closed_on_time")
    elif at < now:  # past its deadline and not closed by it (a late close is still 超期)
        out.append("overdue")
    return out


def appealed_ids(appeals: Sequence[Appeal]) -> frozenset[str]:
    return frozenset(a.case_id for a in appeals)


def rejudge(by_case: Mapping[str, list[FactEnv]], appeals: Sequence[Appeal]) -> list[FactEnv]:
    """The in-period facts of re-judged cases (``by_case``: derived facts already expanded) with their
    appeals applied in order: removed facts dropped, added ones taken on with the case's first row.
    改判为按期结案 removes 超期 and the reverse, so a case is never both."""
    rejudged = [a for a in appeals if a.kind == "rejudge"]
    out: list[FactEnv] = []
    for case_id, facts in by_case.items():
        for appeal in (a for a in rejudged if a.case_id == case_id):
            removed = set(appeal.remove) | {"overdue" for f in appeal.add if f == "closed_on_time"} | \
                {"closed_on_time" for f in appeal.add if f == "overdue"}
            base = facts[0][1]
            facts = [(f, e) for f, e in facts if f not in removed]
            facts += [(f, base) for f in appeal.add if f not in {x for x, _ in facts}]
        out += facts
    return out


def rejudged_ids(appeals: Sequence[Appeal]) -> list[str]:
    """Cases whose facts are re-judged (an excluded case stays out even when also re-judged)."""
    excluded = {a.case_id for a in appeals if a.kind == "exclude"}
    return sorted({a.case_id for a in appeals if a.kind == "rejudge"} - excluded)


def matching(facts: Iterable[FactEnv], fc: FactCount) -> list[Mapping[str, Any]]:
    return [env for fact, env in facts if fact == fc.fact and (fc.where is None or fc.where.test(env))]


def rejudged_counts(envs: Iterable[Mapping[str, Any]], fc: FactCount, group_col: str) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    seen: set[tuple[str, str]] = set()
    for env in envs:
        key = (env[group_col], env["case_id"])
        if key[0] is None:
            continue  # like the SQL counts: a row without a group value counts for nobody (not a None subject)
        if fc.count == "events" or key not in seen:
            out[env[group_col]] += 1
        seen.add(key)
    return out


def rejudged_case_ids(envs: Iterable[Mapping[str, Any]], group_col: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for env in envs:
        out[env[group_col]].add(env["case_id"])
    return out
