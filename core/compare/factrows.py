"""When each fact of a replayed case happens: the rows the scoring engine counts (``MemoryCounter``).

A stored case gets one ``case_facts`` row per fact its steps record, at the step's time, plus the 应结案
row (core/scoring/facts.py). A replayed case gets the same rows on the replay's minute axis: ``reported`` and
``accepted`` when the event is reported, each ``record:`` fact of its workflow path when that step ends,
``escalated`` when an escalation rule fires before it closes, and one ``due`` row with the deadline and the
closing time — so 应结案, 按期结案 and 超期 are derived by the scoring engine, not here.

Step times follow the replay's model (docs/compare.md): steps before the handling step are administrative
and take ``step_minutes`` each from the report, the handling step ends when the simulated work ends, later
steps take ``step_minutes`` each after it. The schedule of a path is computed once per path.
"""
from __future__ import annotations

from ..pack.model import FactCount, Pack
from ..pack.sections.indicators import DERIVED
from .plan import Plan, recorded_facts

# Where a step's time is measured from.
FROM_REPORT = 0    # k administrative steps after the report (steps before the handling step)
AT_END = 1         # the end of the simulated handling work
FROM_END = 2       # k administrative steps after the handling work (steps after it)
AT_CLOSE = 3       # a path without steps (closed at once, or no workflow): facts at the close

Schedule = tuple[tuple[str, int, int], ...]   # (fact, base, k) per recorded fact, in path order


def counted_facts(pack: Pack) -> frozenset[str]:
    """The recorded facts the pack's indicators and scoring rules count: the only rows worth building (a
    replay builds them for 100,000s of cases). A derived fact (按期结案, 超期 …) stands for ``due``: the
    scoring engine derives it from the 应结案 rows."""
    facts = {fc.fact for fc in _fact_counts(pack)}
    return frozenset((facts - set(DERIVED)) | ({"due"} if facts & set(DERIVED) else set()))


def _fact_counts(pack: Pack) -> list[FactCount]:
    counts = [fc for ind in pack.indicators.values() for fc in (ind.numerator, ind.denominator) if fc is not None]
    if pack.scoring is not None:
        counts += [r.fact for sch in pack.scoring.schemes.values() for r in sch.rules() if r.fact is not None]
    return counts


def filters_rows(pack: Pack) -> bool:
    """Whether any of the pack's counts has a ``where:`` (which may read any case field on the row)."""
    return any(fc.where is not None for fc in _fact_counts(pack))


def schedule(plan: Plan, wanted: frozenset[str]) -> Schedule:
    """(fact, base, k) for every fact in ``wanted`` the plan's steps record, in the order they happen."""
    if not plan.transitions:
        return tuple((f, AT_CLOSE, 0) for f in sorted(plan.facts_all & wanted))
    out: list[tuple[str, int, int]] = []
    for j, t in enumerate(plan.transitions):
        if plan.handling < 0 or j < plan.handling:
            base, k = FROM_REPORT, j + 1
        elif j == plan.handling:
            base, k = AT_END, 0
        else:
            base, k = FROM_END, j - plan.handling
        out += [(f, base, k) for f in sorted(recorded_facts(t) & wanted)]
    return tuple(out)


def admin_steps(plan: Plan) -> tuple[int, int]:
    """How many administrative steps come before and after the handling step (as the replay times them)."""
    if plan.handling < 0:
        return len(plan.transitions), 0
    return plan.handling, max(len(plan.transitions) - plan.handling - 1, 0)


def records_close(plan: Plan) -> bool:
    """Whether the path records 结案: only then does a case without a deadline become due (facts.py)."""
    return "closed" in plan.facts_all
