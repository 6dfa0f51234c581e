"""``wangge scenario``: a seeded, synthetic stream of reference events drawn from one pack.

The class mix comes from the pack's own classification (each subclass shares its reference 大类's weight),
places land in the pack's own grid, arrival days follow the pack's working calendar, and everything else
(hours, channels, urgency, people) from :class:`~wangge.core.compare.rates.Rates`. Every event carries the
reference vocabulary (``ref_class``, ``ref_channel``, ``place``) so it replays through any pack, plus the
pack's own ``class``, ``channel`` and ``unit`` so it also reads naturally for that pack. The first line of
the file is a ``_meta`` header that says the data is synthetic. The same pack, n, seed, start and rates give
the same file byte for byte.
"""
from __future__ import annotations

import json
import random
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from math import ceil
from pathlib import Path
from typing import IO, Any

from ..events import CHINA
from ..pack.model import Pack
from ..workcal import CalendarError
from .rates import Rates
from .vocab import RefEvent, Translator, ref_event

SYNTHETIC_NOTE = ("合成数据:由 wangge scenario 按规则包的分类、网格和示意比率随机生成,不是真实事件,"
                  "只用于在同一批事件上比较不同模式 (synthetic events for model comparison, not real reports)")


@dataclass(frozen=True)
class Scenario:
    meta: dict[str, Any]
    events: tuple[RefEvent, ...]


class _Picker:
    """Weighted choice by one uniform draw and a bisect (random.choices re-sums weights every call)."""

    def __init__(self, items: list[Any], weights: list[float]):
        keep = [(i, w) for i, w in zip(items, weights) if w > 0]
        if not keep:
            raise ValueError("所有权重都为 0 (all weights are zero)")
        self.items = [i for i, _ in keep]
        self.cum = list(accumulate(w for _, w in keep))

    def __call__(self, rng: random.Random) -> Any:
        return self.items[min(bisect_right(self.cum, rng.random() * self.cum[-1]), len(self.items) - 1)]


def _days(pack: Pack, start: date, days: int | None, n: int, rates: Rates, units: int) -> list[date]:
    wanted = days or max(1, min(180, ceil(n / max(1.0, rates.per_unit_daily * units))))
    out: list[date] = []
    for k in range(wanted):
        day = start + timedelta(days=k)
        try:
            pack.calendar.is_workday(day)
        except CalendarError:
            break  # the calendar stops here: shorten the span rather than guess working days
        out.append(day)
    if not out:
        raise ValueError(f"规则包 {pack.id} 的工作日历不包含 {start} 所在年份,请换 --start 或在 calendar.years 中补充")
    return out


def generate(pack: Pack, n: int, seed: int, start: date = date(2026, 3, 2), days: int | None = None,
             rates: Rates | None = None) -> Scenario:
    rates = rates or Rates()
    rng = random.Random(seed)
    tr = Translator.for_pack(pack)
    span = _days(pack, start, days, n, rates, len(tr.bottom))
    subclasses = [c for c in pack.events.subclasses()] or list(pack.events.classes.values())
    majors = pack.events.classes
    ref_major = {c.id: majors[c.parent or c.id].maps_to for c in subclasses}
    # A major's weight is shared by its subclasses, so a county with more subclasses does not report more.
    per_major: dict[str, int] = {}
    for c in subclasses:
        per_major[ref_major[c.id]] = per_major.get(ref_major[c.id], 0) + 1
    pick_class = _Picker(subclasses, [rates.class_weights.get(ref_major[c.id], 1.0) / per_major[ref_major[c.id]]
                                      for c in subclasses])
    channels = list(pack.channels.values())
    pick_channel = _Picker(channels, [rates.channel_weights.get(ch.maps_to, rates.other_channel_weight)
                                      for ch in channels])
    pick_day = _Picker(span, [1.0 if pack.calendar.is_workday(d) else rates.rest_day_weight for d in span])
    pick_hour = _Picker(list(range(24)), list(rates.hour_weights))
    urgencies = list(rates.urgency)
    pick_urgency = _Picker(urgencies, [rates.urgency[u] for u in urgencies])
    pick_people = _Picker([p for p, _ in rates.people], [w for _, w in rates.people])
    drafts = []
    for _ in range(n):
        cls = pick_class(rng)
        ch = pick_channel(rng)
        moment = datetime.combine(pick_day(rng), time(pick_hour(rng), rng.randrange(60), rng.randrange(60)), CHINA)
        urgency = pick_urgency(rng)
        if ref_major[cls.id] in rates.emergency_majors and rng.random() < 0.5:
            urgency = "emergency"
        place = f"P{rng.randrange(rates.places):05d}"
        drafts.append((moment, cls, ch, urgency, pick_people(rng), place))
    drafts.sort(key=lambda d: d[0])  # a stream is in reporting order; ids follow it
    events = tuple(
        RefEvent(f"S{seed}-{i + 1:06d}", cls.maps_to, ch.maps_to, place, moment, urgency, people,
                 "grid_worker" if ch.maps_to == "grid_patrol" else "", source_pack=pack.id, source_class=cls.id,
                 source_channel=ch.id)
        for i, (moment, cls, ch, urgency, people, place) in enumerate(drafts))
    meta = {"synthetic": True, "note": SYNTHETIC_NOTE, "generator": "wangge scenario", "pack": pack.id,
            "pack_version": pack.version, "n": n, "seed": seed, "start": span[0].isoformat(),
            "days": len(span), "rates": rates.to_json()}
    return Scenario(meta, events)


def write_jsonl(scenario: Scenario, out: IO[str], pack: Pack | None = None) -> None:
    """The header line, then one event per line in the reference vocabulary; with the generating ``pack``
    each event also carries that pack's own ``class``, ``channel`` and ``unit`` (where its place lands), so
    the file feeds ``wangge route`` and ``wangge cases open`` for that pack as it is."""
    out.write(json.dumps({"_meta": scenario.meta}, ensure_ascii=False) + "\n")
    tr_pack = scenario.meta.get("pack", "")
    own = Translator.for_pack(pack) if pack is not None and pack.id == tr_pack else None
    for e in scenario.events:
        line = e.to_json()
        if e.source_pack == tr_pack:
            line["class"], line["channel"] = e.source_class, e.source_channel
        if own is not None:
            line["unit"] = own.unit(e.place)
        out.write(json.dumps(line, ensure_ascii=False) + "\n")


def with_units(scenario: Scenario, pack: Pack) -> Iterator[dict[str, Any]]:
    """The stream as the generating pack's own events (``unit`` instead of ``place``), for ``parse_event``."""
    tr = Translator.for_pack(pack)
    for e in scenario.events:
        yield tr.raw_event(e)


def read_jsonl(path: Path) -> tuple[dict[str, Any], tuple[RefEvent, ...]]:
    """The header (empty when the file has none) and the events; ValueError names the bad line."""
    meta: dict[str, Any] = {}
    events: list[RefEvent] = []
    loads = json.loads
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                raw = loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path} 第 {number} 行不是 JSON: {exc.msg}") from None
            if "_meta" in raw:
                meta = dict(raw["_meta"])
                continue
            events.append(ref_event(raw, str(meta.get("pack", "")) if "class" in raw else "", number))
    return meta, tuple(events)
