"""A replayed model's indicators and scores, computed by the scoring engine over the replay's fact rows.

The replay records each case's facts as rows (replay.py, factrows.py); ``MemoryCounter`` counts them exactly
as the SQL counter counts stored ``case_facts`` (tests/scoring/test_memory.py), so a comparison reports the
pack's declared indicators and every scheme's scores with the same definitions a county's own report uses.
The period is the replay's whole span, ``now`` its horizon (an open case past its deadline is 超期).

What a replay cannot produce is stated in the report, not guessed: it never reworks, returns, extends or
visits a case, so those facts (返工, 退单, 延期, 回访, 满意) are 0; it has no people, so schemes scored by
reporter or actor have no subjects; and it has no imported 第三方满意度 or 互评 (their rules score
``when_empty``).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from ..pack.model import FactCount, Pack
from ..pack.sections.indicators import DERIVED, EVENT_FACTS, FACTS
from ..scoring import IndicatorValue, MemoryCounter, Score, indicator_values, score_with
from .factrows import counted_facts
from .replay import PackRun

TOP_SUBJECTS = 10  # subjects listed when the pack ranks them
LIMITS = ("重放只走设计的主路径:不返工、不退单、不延期、不回访,返工、退单、延期、回访、满意等事实为 0;"
          "分母为 0 的比率规则按 when_empty 计分(默认满分);重放没有具体人员,按上报人或处置人考核的方案没有考核对象;"
          "没有导入第三方满意度与互评,这些规则按 when_empty 计分 (the replay never reworks, returns, extends or "
          "visits; rate rules with an empty denominator score when_empty; it has no people and no imported "
          "satisfaction or ratings)")


def counter_for(run: PackRun) -> MemoryCounter:
    assert run.period is not None and run.horizon is not None, "replay() sets the period and horizon"
    return MemoryCounter(run.fact_rows, run.period, run.horizon, axis=run.epoch)


def fact_totals(counter: MemoryCounter, pack: Pack) -> dict[str, int]:
    """Pack-wide count of every fact the pack's indicators and rules count (cases; occurrences for 返工-like
    facts, as the indicators count them by default)."""
    counted = counted_facts(pack)
    out: dict[str, int] = {}
    for fact in (f for f in FACTS if f in counted or (f in DERIVED and "due" in counted)):  # due → all four
        n = sum(counter.counts(FactCount(fact, None, "", "events" if fact in EVENT_FACTS else "cases")).values())
        if n:
            out[fact] = n
    return out


def _value_json(name: str, unit: str, numerator: int, denominator: int | None, definition: str,
                indicator: str) -> dict[str, Any]:
    """One indicator as the report shows it: percent values in percent (93.72), like the summary table."""
    if denominator is None:
        value: float | None = numerator
    elif not denominator:
        value = None
    else:
        ratio = numerator / denominator
        value = round(ratio * 100, 2) if unit == "percent" else round(ratio, 4)
    return {"id": indicator, "name": name, "unit": unit, "numerator": numerator, "denominator": denominator,
            "value": value, "definition": definition}


def indicators_json(pack: Pack, values: Sequence[IndicatorValue]) -> list[dict[str, Any]]:
    """Each declared indicator over the whole pack: the top level's units partition the grid, so the pack's
    value sums their numerators and denominators (one unit at the top in most packs)."""
    by_id: dict[str, list[IndicatorValue]] = defaultdict(list)
    for v in values:
        by_id[v.indicator].append(v)
    out = []
    for ind in pack.indicators.values():
        vs = by_id.get(ind.id, [])
        num = sum(v.numerator for v in vs)
        den = None if ind.denominator is None else sum(v.denominator or 0 for v in vs)
        item = _value_json(ind.name, ind.unit, num, den, vs[0].definition if vs else "", ind.id)
        if len(vs) > 1:
            item["subjects"] = [_value_json(v.subject_name, v.unit, v.numerator, v.denominator, v.definition, v.subject)
                                for v in vs]
        out.append(item)
    return out


def _stats(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "min": None, "max": None}
    return {"mean": round(sum(values) / len(values), 2), "min": round(min(values), 2), "max": round(max(values), 2)}


def _subject_name(pack: Pack, subject: str) -> str:
    levels = {lv.id: lv.name for lv in pack.grid.levels}
    return levels.get(subject) or {"department": "部门", "reporter": "上报人", "actor": "处置人"}.get(subject, subject)


def scheme_json(pack: Pack, scheme_id: str, scores: Sequence[Score]) -> dict[str, Any]:
    """Subjects' totals (mean, min, max), the star grades, the mean points of each rule, and — only when the
    pack turns ranking on (off by default, docs/scoring.md) — the top subjects with their rank notes."""
    sch = pack.scoring.schemes[scheme_id]  # type: ignore[union-attr]
    rule_points: dict[str, list[float]] = defaultdict(list)
    names: dict[str, str] = {}
    for s in scores:
        for line in s.lines:
            rule_points[line.rule].append(line.points)
            names.setdefault(line.rule, line.name)
    ranking = bool(pack.scoring.ranking)  # type: ignore[union-attr]
    out: dict[str, Any] = {
        "id": sch.id, "name": sch.name, "subject": sch.subject, "subject_name": _subject_name(pack, sch.subject),
        "subjects": len(scores), "ranking": ranking,
        "total": _stats([s.total for s in scores]),
        "stars": dict(Counter(s.star for s in scores if s.star)),
        "rules": [{"rule": r, "name": names[r], "mean": round(sum(p) / len(scores), 2)} for r, p in rule_points.items()],
    }
    if ranking:
        ranked = sorted(scores, key=lambda s: (s.rank or 0, s.subject))[:TOP_SUBJECTS]
        out["top"] = [{"rank": s.rank, "subject": s.subject, "name": s.subject_name, "total": s.total, "star": s.star,
                       "rank_note": s.rank_note} for s in ranked]
    return out


def model_scoring(run: PackRun) -> dict[str, Any]:
    """``facts``, ``indicators`` and ``scores`` of one replayed model, for its summary in report.json."""
    pack = run.pack
    counter = counter_for(run)
    top = pack.grid.levels[0].id if pack.grid.levels else "department"
    values = indicator_values(counter, pack, top)
    scores: dict[str, Any] = {"engine": "wangge.core.scoring", "period": run.period.label if run.period else None,
                              "note": LIMITS, "schemes": []}
    if pack.scoring is None or not pack.scoring.schemes:
        scores["note"] = "规则包没有声明考核方案 (no scoring schemes in this pack)"
    else:
        for scheme_id in pack.scoring.schemes:
            got = score_with(counter, pack, scheme=scheme_id)  # explain=False: no case ids needed for a summary
            scores["schemes"].append(scheme_json(pack, scheme_id, got))
    return {"facts": fact_totals(counter, pack), "indicators": indicators_json(pack, values), "scores": scores}
