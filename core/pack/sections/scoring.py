"""``scoring:`` — 考核方案: who is scored (subject), components with caps, rules, bonus caps, star levels,
rankings (off unless the pack turns them on) and the thresholds of the anti-gaming flags.

Only the declarations are compiled here; ``core/scoring`` computes them over stored facts. A rule is one of:

- ``indicator`` + ``weight``     — points = weight × ratio of a declared indicator;
- ``indicator`` + ``piecewise``  — full points at/above a line, minus per point below; or bands;
- ``per_event``                  — points per case (or occurrence) of a fact, e.g. −0.2 per 返工;
- ``input`` + ``weight``         — an imported survey (第三方满意度) or the other side's rating (条块双向考核).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..context import Context, did_you_mean, entries
from ..model import FactCount, Grid, Indicator, frozen_map
from .indicators import FACTS, fact_count

SUBJECT_KINDS = ("department", "reporter", "actor")


@dataclass(frozen=True)
class Piecewise:
    full: float = 0.0
    at_least: float | None = None        # percent
    per_point_below: float = 0.0
    floor: float = 0.0
    bands: tuple[tuple[float, float], ...] = ()   # (min percent, points), first match wins

    def points(self, percent: float) -> tuple[float, str]:
        """Points for a ratio in percent, with the reason in words."""
        if self.bands:
            for low, pts in self.bands:
                if percent >= low:
                    return pts, f"{percent:.2f}% ≥ {low:g}% 档,得 {pts:g} 分"
            return self.floor, f"{percent:.2f}% 低于所有分档,得 {self.floor:g} 分"
        line = self.at_least if self.at_least is not None else 0.0
        if percent >= line:
            return self.full, f"{percent:.2f}% ≥ {line:g}%,得满分 {self.full:g}"
        below = line - percent
        pts = max(self.floor, self.full - below * self.per_point_below)
        return pts, f"{percent:.2f}% 低于 {line:g}% {below:.2f} 个百分点 × {self.per_point_below:g} 分,得 {pts:g} 分"


@dataclass(frozen=True)
class ScoreRule:
    id: str
    name: str
    kind: str                            # indicator | piecewise | per_event | input
    indicator: str | None = None
    weight: float = 0.0
    when_empty: str = "full"
    piecewise: Piecewise | None = None
    fact: FactCount | None = None        # per_event
    points: float = 0.0                  # per_event: per case / occurrence
    input: str | None = None             # satisfaction | rating
    raters: str | None = None            # rating: the side that scores (level id or department)
    cap: float | None = None
    source: str = ""


@dataclass(frozen=True)
class Component:
    id: str
    name: str
    max: float | None
    rules: tuple[ScoreRule, ...]
    source: str = ""


@dataclass(frozen=True)
class Star:
    min: float
    name: str


@dataclass(frozen=True)
class Scheme:
    id: str
    name: str
    subject: str                         # a grid level id, or department | reporter | actor
    full: float | None
    bonus_cap: float | None
    components: tuple[Component, ...]
    bonus: tuple[ScoreRule, ...]
    stars: tuple[Star, ...] = ()         # highest first
    public: bool = False
    source: str = ""
    description: str = ""

    def rules(self) -> tuple[ScoreRule, ...]:
        return tuple(r for c in self.components for r in c.rules) + self.bonus


@dataclass(frozen=True)
class Flags:
    self_close_minutes: float = 30.0
    duplicate_minutes: float = 60.0
    last_fraction: float = 0.1
    bulk_min: int = 5


@dataclass(frozen=True)
class Scoring:
    period: str = "month"
    ranking: bool = False                # 2023 rules against 指尖上的形式主义: opt-in only
    ranking_public: bool = False
    ranking_source: str = ""
    flags: Flags = field(default_factory=Flags)
    satisfaction_scale: float = 100.0
    satisfaction_source: str = ""
    schemes: Mapping[str, Scheme] = field(default_factory=lambda: frozen_map({}))


def compile_scoring(raw: Any, ctx: Context, grid: Grid, indicators: Mapping[str, Indicator]) -> Scoring:
    if not isinstance(raw, dict):
        return Scoring()
    ranking = raw.get("ranking") or {}
    flags = raw.get("flags") or {}
    sat = raw.get("satisfaction") or {}
    levels = tuple(lv.id for lv in grid.levels)
    schemes: dict[str, Scheme] = {}
    seen: dict = {}
    for i, entry in entries(raw.get("schemes")):
        path = ("scoring", "schemes", i)
        if not ctx.unique(seen, entry["id"], path, "考核方案"):
            continue
        scheme = _scheme(entry, path, ctx, levels, indicators)
        if scheme is not None:
            schemes[scheme.id] = scheme
    return Scoring(
        period=str(raw.get("period") or "month"), ranking=ranking.get("enabled") is True,
        ranking_public=ranking.get("public") is True, ranking_source=str(ranking.get("source", "")),
        flags=Flags(**{k: flags[k] for k in ("self_close_minutes", "duplicate_minutes", "last_fraction", "bulk_min")
                       if k in flags}),
        satisfaction_scale=float(sat.get("scale", 100)), satisfaction_source=str(sat.get("source", "")),
        schemes=frozen_map(schemes))


def _scheme(entry: dict, path: tuple, ctx: Context, levels: tuple[str, ...],
            indicators: Mapping[str, Indicator]) -> Scheme | None:
    subject = str(entry.get("subject") or "")
    if subject not in levels and subject not in SUBJECT_KINDS:
        ctx.problem("UNKNOWN_LEVEL", (*path, "subject") if "subject" in entry else path,
                    f'考核对象 "{subject}" 不是网格层级,也不是 {"/".join(SUBJECT_KINDS)}',
                    did_you_mean(subject, (*levels, *SUBJECT_KINDS)))
    components, seen = [], {}
    for j, comp in entries(entry.get("components")):
        cpath = (*path, "components", j)
        if not ctx.unique(seen, comp["id"], cpath, "考核项"):
            continue
        rules = _rules(comp.get("rules"), (*cpath, "rules"), ctx, levels, indicators)
        components.append(Component(comp["id"], str(comp.get("name") or comp["id"]),
                                    _num(comp.get("max")), rules, str(comp.get("source", ""))))
    bonus = _rules(entry.get("bonus"), (*path, "bonus"), ctx, levels, indicators)
    stars = tuple(sorted((Star(float(s["min"]), str(s["name"])) for s in entry.get("stars") or ()
                          if isinstance(s, dict) and "min" in s and "name" in s), key=lambda s: -s.min))
    return Scheme(entry["id"], str(entry.get("name") or entry["id"]), subject, _num(entry.get("full")),
                  _num(entry.get("bonus_cap")), tuple(components), bonus, stars, entry.get("public") is True,
                  str(entry.get("source", "")), str(entry.get("description", "")))


def _rules(raw: Any, path: tuple, ctx: Context, levels: tuple[str, ...],
           indicators: Mapping[str, Indicator]) -> tuple[ScoreRule, ...]:
    out, seen = [], {}
    for k, r in entries(raw):
        rpath = (*path, k)
        if not ctx.unique(seen, r["id"], rpath, "计分规则"):
            continue
        rule = _rule(r, rpath, ctx, levels, indicators)
        if rule is not None:
            out.append(rule)
    return tuple(out)


def _rule(r: dict, path: tuple, ctx: Context, levels: tuple[str, ...],
          indicators: Mapping[str, Indicator]) -> ScoreRule | None:
    kinds = [k for k in ("piecewise", "per_event", "input") if r.get(k) is not None]
    if r.get("indicator") and not kinds:
        kinds = ["indicator"]
    if len(kinds) != 1:
        ctx.problem("SCHEMA", path, "计分规则须且只能是 indicator+weight、indicator+piecewise、per_event、input 之一",
                    "例如 {id: anqi, indicator: anqi_jiean_rate, piecewise: {full: 50, at_least: 70, per_point_below: 1}}")
        return None
    kind = kinds[0]
    common = dict(id=r["id"], name=str(r.get("name") or r["id"]), kind=kind, cap=_num(r.get("cap")),
                  source=str(r.get("source", "")),
                  # no cases due is no failure (full points); a missing survey earns nothing
                  when_empty=str(r.get("when_empty") or ("zero" if kind == "input" else "full")))
    if kind in ("indicator", "piecewise"):
        ind = r.get("indicator")
        if ind not in indicators:
            ctx.problem("UNKNOWN_INDICATOR", (*path, "indicator") if ind else path,
                        f'未声明的指标 "{ind}" (unknown indicator)', did_you_mean(str(ind), tuple(indicators)))
            return None
        if kind == "indicator":
            return ScoreRule(indicator=ind, weight=float(r.get("weight") or 0), **common)
        pw = r["piecewise"]
        bands = tuple((float(b["min"]), float(b["points"])) for b in pw.get("bands") or () if isinstance(b, dict))
        if not bands and pw.get("at_least") is None:
            ctx.problem("SCHEMA", (*path, "piecewise"), "分段规则须给出 at_least(达标线)或 bands(分档)",
                        "例如 {full: 50, at_least: 70, per_point_below: 1}")
            return None
        return ScoreRule(indicator=ind, piecewise=Piecewise(
            float(pw.get("full") or 0), _num(pw.get("at_least")), float(pw.get("per_point_below") or 0),
            float(pw.get("min") or 0), tuple(sorted(bands, key=lambda b: -b[0]))), **common)
    if kind == "per_event":
        pe = r["per_event"]
        if pe.get("fact") not in FACTS:
            ctx.problem("SCHEMA", (*path, "per_event", "fact"), f'未知的指标事实 "{pe.get("fact")}" (unknown fact)',
                        did_you_mean(str(pe.get("fact")), FACTS))
            return None
        return ScoreRule(fact=fact_count(pe, (*path, "per_event"), ctx), points=float(pe.get("points") or 0), **common)
    raters = r.get("raters")
    if r["input"] == "rating" and raters not in (*levels, "department"):
        ctx.problem("UNKNOWN_LEVEL", (*path, "raters") if raters else path,
                    f'互评的打分方 "{raters}" 须是网格层级或 department', did_you_mean(str(raters), (*levels, "department")))
        return None
    return ScoreRule(input=r["input"], raters=raters, weight=float(r.get("weight") or 0), **common)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
