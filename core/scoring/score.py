"""Scores of a scheme for every subject, each point explained: ``Explanation`` lines (rule, inputs, points,
case ids) sum exactly to the total, because caps, floors and bonus caps are lines too.

Rankings are computed only when the pack turns them on (``scoring.ranking.enabled``; off by default after
the 2023 rules against 指尖上的形式主义), and then every rank says how it was obtained.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..pack.model import Pack
from ..pack.sections.scoring import Scheme, ScoreRule, Scoring
from ..store import Database
from .appeals import Appeal
from .counting import FactCounter
from .indicators import (
    definition,
    describe_count,
    open_counter,
    rollup,
    subjects_at,
)
from .period import Period


class ScoringError(ValueError):
    pass


@dataclass(frozen=True)
class Explanation:
    rule: str                    # component/rule id, or a cap/floor line
    name: str
    points: float
    inputs: Mapping[str, Any] = field(default_factory=dict)
    case_ids: tuple[str, ...] = ()
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "name": self.name, "points": self.points, "inputs": dict(self.inputs),
                "case_ids": list(self.case_ids), "note": self.note}


@dataclass(frozen=True)
class Score:
    scheme: str
    scheme_name: str
    subject: str
    subject_name: str
    level: str
    period: str
    total: float
    base: float
    bonus: float
    lines: tuple[Explanation, ...]
    star: str | None = None
    rank: int | None = None
    rank_note: str = ""
    appeals: tuple[str, ...] = ()   # the appeals applied, described

    def to_json(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "scheme_name": self.scheme_name, "subject": self.subject,
                "subject_name": self.subject_name, "level": self.level, "period": self.period,
                "total": self.total, "base": self.base, "bonus": self.bonus, "star": self.star, "rank": self.rank,
                "rank_note": self.rank_note, "lines": [ln.to_json() for ln in self.lines],
                "appeals": list(self.appeals)}


def _r(x: float) -> float:
    # Scores are shown to two decimals; rounding each line keeps "lines sum to the total" exact on paper.
    return round(x + 0.0, 4)


def schemes_for(pack: Pack, subject_level: str | None = None, scheme: str | None = None) -> list[Scheme]:
    scoring = pack.scoring
    if scoring is None or not scoring.schemes:
        raise ScoringError(f"规则包 {pack.id} 没有声明考核方案 (scoring.schemes)")
    if scheme is not None:
        if scheme not in scoring.schemes:
            raise ScoringError(f'没有考核方案 "{scheme}"(可用: {", ".join(scoring.schemes)})')
        return [scoring.schemes[scheme]]
    chosen = [s for s in scoring.schemes.values() if subject_level is None or s.subject == subject_level]
    if not chosen:
        raise ScoringError(f'没有考核对象为 "{subject_level}" 的方案(可用: '
                           f'{", ".join(f"{s.id}→{s.subject}" for s in scoring.schemes.values())})')
    return chosen


def score(db: Database, tenant: str, pack: Pack, period: Period, subject_level: str | None = None, *,
          scheme: str | None = None, explain: bool = True, now: datetime | None = None,
          subjects: Iterable[str] | None = None) -> list[Score]:
    """Scores of every scheme whose subject is ``subject_level`` (or the named ``scheme``) for ``period``.
    ``explain`` adds the case ids behind each line (more queries); points and lines are always there."""
    chosen = schemes_for(pack, subject_level, scheme)  # refuse a bad request before opening a connection
    with db.engine.connect() as conn:
        counter = open_counter(conn, tenant, period, now)
        return _score_schemes(counter, pack, chosen, explain, list(subjects) if subjects is not None else None)


def score_with(counter: FactCounter, pack: Pack, subject_level: str | None = None, *, scheme: str | None = None,
               explain: bool = False, subjects: Iterable[str] | None = None) -> list[Score]:
    """:func:`score` over any fact source: the SQL counter of stored cases, or a ``MemoryCounter`` (e.g. a
    comparison's replayed cases). ``explain`` asks the counter for case ids; points and lines are always there."""
    return _score_schemes(counter, pack, schemes_for(pack, subject_level, scheme), explain,
                          list(subjects) if subjects is not None else None)


def _score_schemes(counter: FactCounter, pack: Pack, chosen: list[Scheme], explain: bool,
                   only: list[str] | None) -> list[Score]:
    out: list[Score] = []
    for sch in chosen:
        out += _score_scheme(counter, pack, sch, explain, only)
    return out


def _by(subject: str) -> str:
    return subject if subject in ("department", "reporter", "actor") else "unit"


def _rolled_ids(pack: Pack, ids: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for code, cs in ids.items():
        if code in pack.grid.units:
            for u in pack.grid.ancestors(code):
                out[u.code] |= cs
    return out


def _rater_ok(pack: Pack, rule: ScoreRule, rater: str) -> bool:
    if rule.raters == "department":
        return rater in pack.departments
    unit = pack.grid.units.get(rater)
    return unit is not None and unit.level == rule.raters


def _score_scheme(counter: FactCounter, pack: Pack, sch: Scheme, explain: bool,
                  only: list[str] | None) -> list[Score]:
    scoring: Scoring = pack.scoring  # type: ignore[assignment]
    by = _by(sch.subject)
    if by in ("reporter", "actor"):
        names = set()
        for rule in sch.rules():
            if rule.fact is not None:
                names |= set(counter.counts(rule.fact, by))
        subjects = [(n, n) for n in sorted(names)]
    else:
        subjects = subjects_at(pack, sch.subject)
    if only is not None:
        subjects = [s for s in subjects if s[0] in set(only)]
    evaluate = _RuleEvaluator(counter, pack, scoring, by, explain)
    counter.prefetch([fc for r in sch.rules() for fc in _fact_counts(pack, r)], by)
    applied = tuple(a.describe() for a in counter.appeals)
    scores = []
    for code, name in subjects:
        lines: list[Explanation] = []
        base = 0.0
        for comp in sch.components:
            comp_lines = [evaluate(rule, code, comp.id) for rule in comp.rules]
            subtotal = sum(ln.points for ln in comp_lines)
            if comp.max is not None and subtotal > comp.max:
                comp_lines.append(Explanation(f"{comp.id}/cap", f"{comp.name} 封顶", _r(comp.max - subtotal),
                                              {"max": comp.max, "before": _r(subtotal)}, note=f"本项最高 {comp.max:g} 分"))
            elif subtotal < 0:
                comp_lines.append(Explanation(f"{comp.id}/floor", f"{comp.name} 保底", _r(-subtotal),
                                              {"before": _r(subtotal)}, note="本项最低 0 分(扣分不跨项)"))
            lines += comp_lines
            base += sum(ln.points for ln in comp_lines)
        if sch.full is not None and base > sch.full:
            lines.append(Explanation("full/cap", "基本分封顶", _r(sch.full - base), {"full": sch.full, "before": _r(base)}))
            base = sch.full
        bonus_lines = [evaluate(rule, code, "bonus") for rule in sch.bonus]
        bonus = sum(ln.points for ln in bonus_lines)
        if sch.bonus_cap is not None and bonus > sch.bonus_cap:
            bonus_lines.append(Explanation("bonus/cap", "加分封顶", _r(sch.bonus_cap - bonus),
                                           {"bonus_cap": sch.bonus_cap, "before": _r(bonus)},
                                           note=f"加分最多 {sch.bonus_cap:g} 分"))
            bonus = sch.bonus_cap
        lines += bonus_lines
        total = _r(sum(ln.points for ln in lines))
        star = next((s.name for s in sch.stars if total >= s.min), None)
        level = pack.grid.units[code].level if by == "unit" else sch.subject
        scores.append(Score(sch.id, sch.name, code, name, level, counter.period.label, total, _r(base), _r(bonus),
                            tuple(lines), star, appeals=applied))
    if scoring.ranking:
        return _ranked(scores)
    return scores


def _fact_counts(pack: Pack, rule: ScoreRule) -> list[Any]:
    if rule.fact is not None:
        return [rule.fact]
    ind = pack.indicators.get(rule.indicator or "")
    return [fc for fc in (ind.numerator, ind.denominator) if fc is not None] if ind is not None else []


def _ranked(scores: list[Score]) -> list[Score]:
    """Competition ranking (1, 2, 2, 4) by total; each rank says so."""
    ordered = sorted(scores, key=lambda s: (-s.total, s.subject))
    out, rank = [], 0
    for i, s in enumerate(ordered):
        if i == 0 or s.total != ordered[i - 1].total:
            rank = i + 1
        ties = sum(1 for o in ordered if o.total == s.total)
        note = f"按总分从高到低排第 {rank} 名(共 {len(ordered)} 个)" + (f",与 {ties - 1} 个同分并列" if ties > 1 else "")
        out.append(Score(**{**s.__dict__, "rank": rank, "rank_note": note}))
    return out


@dataclass
class _RuleEvaluator:
    """Turns one rule into one explanation line for one subject (counts come from the shared Counter)."""

    counter: FactCounter
    pack: Pack
    scoring: Scoring
    by: str
    explain: bool
    _input_cache: dict[str, dict] = field(default_factory=dict)
    _rolled: dict[tuple, Any] = field(default_factory=dict)   # rolled-up counts, once per fact count (not per subject)

    def counts(self, fc: Any) -> dict[str, int]:
        key = ("n", fc.fact, fc.where_source, fc.count)
        if key not in self._rolled:
            got = self.counter.counts(fc, self.by)
            self._rolled[key] = rollup(self.pack, got) if self.by == "unit" else got
        return self._rolled[key]

    def ids(self, fc: Any) -> dict[str, set[str]]:
        key = ("ids", fc.fact, fc.where_source, fc.count)
        if key not in self._rolled:
            got = self.counter.case_ids(fc, self.by)
            self._rolled[key] = _rolled_ids(self.pack, got) if self.by == "unit" else got
        return self._rolled[key]

    def __call__(self, rule: ScoreRule, code: str, component: str) -> Explanation:
        rid = f"{component}/{rule.id}"
        if rule.kind in ("indicator", "piecewise"):
            line = self._indicator(rule, code, rid)
        elif rule.kind == "per_event":
            line = self._per_event(rule, code, rid)
        else:
            line = self._input(rule, code, rid)
        if rule.cap is not None and abs(line.points) > rule.cap:
            capped = rule.cap if line.points > 0 else -rule.cap
            line = Explanation(line.rule, line.name, _r(capped), {**line.inputs, "cap": rule.cap},
                               line.case_ids, line.note + f";本规则封顶 {rule.cap:g} 分")
        return line

    def _indicator(self, rule: ScoreRule, code: str, rid: str) -> Explanation:
        ind = self.pack.indicators[rule.indicator]  # type: ignore[index]
        num = self.counts(ind.numerator).get(code, 0)
        den = self.counts(ind.denominator).get(code, 0) if ind.denominator else None
        ratio = (num / den if den else None) if den is not None else float(num)
        inputs = {"indicator": ind.id, "numerator": num, "denominator": den, "definition": definition(ind),
                  "ratio": None if ratio is None else round(ratio, 6)}
        if ratio is None:
            full = rule.weight if rule.kind == "indicator" else rule.piecewise.full  # type: ignore[union-attr]
            pts = full if rule.when_empty == "full" else 0.0
            note = f"{ind.name}: 分母为 0(本期没有{describe_count(ind.denominator)}),按规定得 {pts:g} 分"  # type: ignore[arg-type]
        elif rule.kind == "indicator":
            pts = rule.weight * ratio
            note = f"{ind.name} {ratio * 100:.2f}% × 权重 {rule.weight:g} = {pts:.2f} 分"
        else:
            pts, note = rule.piecewise.points(ratio * 100)  # type: ignore[union-attr]
            note = f"{ind.name}: {note}"
        ids: tuple[str, ...] = ()
        if self.explain and ind.denominator is not None and den:
            # the cases that cost points: in the denominator, not in the numerator
            dens = self.ids(ind.denominator).get(code, set())
            nums = self.ids(ind.numerator).get(code, set())
            ids = tuple(sorted(dens - nums))
        return Explanation(rid, rule.name, _r(pts), inputs, ids, note)

    def _per_event(self, rule: ScoreRule, code: str, rid: str) -> Explanation:
        fc = rule.fact
        n = self.counts(fc).get(code, 0)
        pts = n * rule.points
        ids = tuple(sorted(self.ids(fc).get(code, set()))) if self.explain and n else ()
        unit = "次" if fc.count == "events" else "件"  # type: ignore[union-attr]
        return Explanation(rid, rule.name, _r(pts), {"fact": fc.fact, "count": n, "points_each": rule.points,  # type: ignore[union-attr]
                                                     "where": fc.where_source},  # type: ignore[union-attr]
                           ids, f"{describe_count(fc)} {n} {unit} × {rule.points:g} 分 = {pts:.2f} 分")  # type: ignore[arg-type]

    def _input(self, rule: ScoreRule, code: str, rid: str) -> Explanation:
        kind = rule.input or "satisfaction"
        if kind not in self._input_cache:
            self._input_cache[kind] = self.counter.inputs(kind)
        values = self._input_cache[kind].get(code, [])
        if kind == "rating":
            values = [(r, v) for r, v in values if _rater_ok(self.pack, rule, r)]
        scale = self.scoring.satisfaction_scale
        if not values:
            pts = rule.weight if rule.when_empty == "full" else 0.0
            return Explanation(rid, rule.name, _r(pts), {"input": kind, "values": []}, (),
                               f"本期没有{'第三方满意度' if kind == 'satisfaction' else '互评'}数据,得 {pts:g} 分")
        mean = sum(v for _, v in values) / len(values)
        pts = rule.weight * mean / scale
        who = "第三方测评" + (f"({self.scoring.satisfaction_source})" if self.scoring.satisfaction_source else "") \
            if kind == "satisfaction" else f"{rule.raters} 互评"
        return Explanation(rid, rule.name, _r(pts), {"input": kind, "values": dict(values), "mean": round(mean, 4),
                                                     "scale": scale, "raters": rule.raters},
                           (), f"{who} 平均 {mean:.2f}/{scale:g} × 权重 {rule.weight:g} = {pts:.2f} 分")


def appeals_json(appeals: tuple[Appeal, ...]) -> list[dict[str, Any]]:
    return [a.to_json() for a in appeals]
