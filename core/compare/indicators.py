"""The pack's declared indicators (立案率, 结案率, 按期结案率 …) over the replayed cases, in memory.

Same definitions as the indicators section (docs/packs.md): numerator and denominator count the cases that
have a fact, narrowed by ``where:``. Facts of a replayed case: those its workflow path records (``record:``
effects of the steps it went through), plus ``reported``/``accepted`` for every routed event and the derived
ones — ``due`` 应结案 (closed, or open past its deadline at the end of the run), ``closed_on_time`` 按期结案,
``overdue`` 超期, ``escalated`` 升级. The replay never reworks or returns a case, so 返工 counts are 0.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..events import event_fields
from ..pack.model import Indicator, Pack
from .keys import LocalEvent, key_function


@dataclass(frozen=True)
class IndicatorValue:
    id: str
    name: str
    numerator: int
    denominator: int
    unit: str

    @property
    def value(self) -> float | None:
        if self.unit == "count":
            return float(self.numerator)
        if not self.denominator:
            return None
        ratio = self.numerator / self.denominator
        return ratio * 100 if self.unit == "percent" else ratio

    def to_json(self) -> dict[str, Any]:
        v = self.value
        return {"id": self.id, "name": self.name, "numerator": self.numerator, "denominator": self.denominator,
                "unit": self.unit, "value": round(v, 2) if v is not None else None}


def _count(pack: Pack, fact: str, where: Any, facts: Sequence[frozenset[str]], locals_: Sequence[LocalEvent],
           counts: dict[str, int] | None = None) -> int:
    if where is None:
        return counts.get(fact, 0) if counts is not None else sum(1 for f in facts if fact in f)
    key = key_function(where.variables)
    memo: dict[tuple, bool] = {}
    total = 0
    for f, ev in zip(facts, locals_):
        if fact not in f:
            continue
        k = key(ev)
        hit = memo.get(k)
        if hit is None:
            try:
                hit = bool(where.test(event_fields(ev.event(), pack)))
            except Exception:  # noqa: BLE001 - a filter on a case field the replay does not have
                hit = False
            memo[k] = hit
        total += hit
    return total


def needs_events(pack: Pack) -> bool:
    return any(getattr(part, "where", None) is not None
               for i in pack.indicators.values() for part in (i.numerator, i.denominator))


def indicator_values(pack: Pack, facts: Sequence[frozenset[str]],
                     locals_: Sequence[LocalEvent] = ()) -> list[IndicatorValue]:
    counts = fact_counts(facts)
    return [_value(pack, ind, facts, locals_, counts) for ind in pack.indicators.values()]


def _value(pack: Pack, ind: Indicator, facts: Sequence[frozenset[str]], locals_: Sequence[LocalEvent],
           counts: dict[str, int]) -> IndicatorValue:
    num = _count(pack, ind.numerator.fact, ind.numerator.where, facts, locals_, counts) if ind.numerator else 0
    if ind.denominator is None:  # a plain count
        return IndicatorValue(ind.id, ind.name, num, 0, "count")
    den = _count(pack, ind.denominator.fact, ind.denominator.where, facts, locals_, counts)
    return IndicatorValue(ind.id, ind.name, num, den, ind.unit)


def fact_counts(facts: Sequence[frozenset[str]]) -> dict[str, int]:
    per_set = Counter(facts)  # few distinct (interned) sets: count those, then their members
    counts: dict[str, int] = {}
    for f, n in per_set.items():
        for name in f:
            counts[name] = counts.get(name, 0) + n
    return dict(sorted(counts.items()))
