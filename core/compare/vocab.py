"""The shared vocabulary of a comparison: reference events, whether packs can be compared, and placement.

A **reference event** names its class and channel in the reference vocabulary (the national base pack's
classification and channels, ``ref_class`` / ``ref_channel``) and its location as a **place**: an opaque,
stable id (``P01234``). Each county has its own grid with its own unit codes, so there is no true common
location; a place lands in a pack's grid by a stable hash onto that pack's bottom-level units (sorted by
code). This is synthetic placement for comparison only: it is deterministic (the same place always lands in
the same unit of a given pack, on every machine) and spreads places evenly, but it says nothing about real
geography. See docs/compare.md.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import blake2b
from types import MappingProxyType
from typing import Any

from ..events import CHINA, URGENCIES, local_class
from ..pack.model import Pack


class ComparabilityError(ValueError):
    """Packs that cannot be compared on these events; ``problems`` lists one Chinese line per cause."""

    def __init__(self, problems: Sequence[str]):
        self.problems = tuple(problems)
        super().__init__("规则包无法比较 (packs cannot be compared):\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass(frozen=True, slots=True)
class RefEvent:
    """One event of a comparison stream (a line of the JSONL file). ``source_*`` keep the generating pack's
    own class, channel and unit, used when the event is replayed through that same pack."""

    id: str
    ref_class: str
    ref_channel: str
    place: str
    reported_at: datetime
    urgency: str = "normal"
    people: int = 0
    reporter_role: str = ""
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    source_pack: str = ""
    source_class: str = ""
    source_channel: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "ref_class": self.ref_class, "ref_channel": self.ref_channel,
                               "place": self.place, "reported_at": self.reported_at.isoformat(),
                               "urgency": self.urgency, "people": self.people}
        if self.reporter_role:
            out["reporter_role"] = self.reporter_role
        if self.data:
            out["data"] = dict(self.data)
        return out


def ref_event(raw: Mapping[str, Any], source_pack: str = "", line: int = 0) -> RefEvent:
    """A stream line as a RefEvent; ValueError with a Chinese message naming the line when it is malformed."""
    where = f"第 {line} 行: " if line else ""
    missing = [k for k in ("id", "ref_class", "ref_channel", "place", "reported_at") if raw.get(k) in (None, "")]
    if missing:
        raise ValueError(f"{where}参考事件缺少字段 {', '.join(missing)} (reference events need ref_class, "
                         "ref_channel, place, reported_at; see docs/compare.md)")
    try:
        moment = datetime.fromisoformat(str(raw["reported_at"]))
    except ValueError:
        raise ValueError(f'{where}时间 "{raw["reported_at"]}" 不是 ISO 8601 格式') from None
    urgency = str(raw.get("urgency", "normal"))
    if urgency not in URGENCIES:
        raise ValueError(f'{where}紧急程度 "{urgency}" 无效 (normal / urgent / emergency)')
    people = raw.get("people", 0)
    if not isinstance(people, int) or isinstance(people, bool) or people < 0:
        raise ValueError(f"{where}涉及人数 people 必须是非负整数")
    data = raw.get("data") or {}
    return RefEvent(str(raw["id"]), str(raw["ref_class"]), str(raw["ref_channel"]), str(raw["place"]),
                    moment if moment.tzinfo else moment.replace(tzinfo=CHINA), urgency, people,
                    str(raw.get("reporter_role", "")), MappingProxyType(dict(data)), source_pack,
                    str(raw.get("class", "")) if source_pack else "", str(raw.get("channel", "")) if source_pack else "")


# ---------------------------------------------------------------- comparability


def check_comparable(packs: Sequence[Pack], events: Iterable[RefEvent]) -> None:
    """Raise ComparabilityError unless every pack maps every reference class and channel the events use.

    The packs must share one reference pack (the same ``cn.base``); a pack with no reference mapping, or one
    without a local class for a reference class that occurs in the events, is named with what is missing.
    """
    problems: list[str] = []
    refs = {p.reference.pack if p.reference is not None else None for p in packs}
    for pack in packs:
        if not bottom_units(pack):
            problems.append(f"规则包 {pack.id} 没有网格单元 (grid.units),事件无法落到网格中")
        if pack.reference is None or not pack.reference.pack:
            problems.append(f"规则包 {pack.id} 没有映射到参考分类(未继承参考包 cn.base),无法与其他模式比较")
    named = sorted(r for r in refs if r)
    if len(named) > 1:
        problems.append("规则包使用了不同的参考包: " + "、".join(
            f"{p.id} → {p.reference.pack}" for p in packs if p.reference is not None) + ";只能比较同一参考包下的模式")
    classes: set[str] = set()
    channels: set[str] = set()
    for event in events:
        classes.add(event.ref_class)
        channels.add(event.ref_channel)
    for pack in packs:
        if pack.reference is None:
            continue
        missing = sorted(c for c in classes if local_class(pack, c) is None)
        if missing:
            problems.append(f"规则包 {pack.id} 没有对应参考分类 {'、'.join(missing[:12])}"
                            f"{' 等' if len(missing) > 12 else ''} 的本地分类(共 {len(missing)} 个),"
                            "请在 events: 中用 maps_to 映射")
        have = {c.maps_to for c in pack.channels.values()}
        lost = sorted(channels - have)
        if lost:
            problems.append(f"规则包 {pack.id} 没有对应参考渠道 {'、'.join(lost)} 的本地渠道,请在 channels: 中用 maps_to 映射")
    if problems:
        raise ComparabilityError(problems)


# ---------------------------------------------------------------- translation and placement


@dataclass(frozen=True)
class Translator:
    """Reference → local for one pack: class, channel and the unit a place lands in (all memoised)."""

    pack: Pack
    bottom: tuple[str, ...]
    classes: Mapping[str, str]
    channels: Mapping[str, str]

    @classmethod
    def for_pack(cls, pack: Pack) -> Translator:
        return cls(pack, bottom_units(pack), MappingProxyType(_class_map(pack)),
                   MappingProxyType(_channel_map(pack)))

    def local_class(self, event: RefEvent) -> str:
        # The generating pack replays its own (possibly local) subclass; every other pack uses its mapping.
        if event.source_pack == self.pack.id and event.source_class in self.pack.events.classes:
            return event.source_class
        return self.classes[event.ref_class]

    def local_channel(self, event: RefEvent) -> str:
        if event.source_pack == self.pack.id and event.source_channel in self.pack.channels:
            return event.source_channel
        return self.channels[event.ref_channel]

    def unit(self, place: str) -> str:
        return self.bottom[place_index(place, len(self.bottom))]

    def raw_event(self, event: RefEvent) -> dict[str, Any]:
        """The event in this pack's vocabulary, ready for ``parse_event`` (docs/events.md)."""
        out: dict[str, Any] = {"id": event.id, "class": self.local_class(event), "channel": self.local_channel(event),
                               "unit": self.unit(event.place), "reported_at": event.reported_at.isoformat(),
                               "urgency": event.urgency, "people": event.people}
        if event.reporter_role:
            out["reporter_role"] = event.reporter_role
        if event.data:
            out["data"] = dict(event.data)
        return out


def bottom_units(pack: Pack) -> tuple[str, ...]:
    """The pack's bottom-level units sorted by code: where places land."""
    deepest = pack.grid.levels[-1].id
    units = sorted(u.code for u in pack.grid.units.values() if u.level == deepest)
    if not units:  # a pack whose tree stops above its deepest declared level: use its leaves
        units = sorted(c for c in pack.grid.units if not pack.grid.children.get(c))
    return tuple(units)


def place_index(place: str, n: int) -> int:
    """Stable across processes and machines (unlike hash()), uniform enough for thousands of units."""
    return int.from_bytes(blake2b(place.encode("utf-8"), digest_size=8).digest(), "big") % n


def _class_map(pack: Pack) -> dict[str, str]:
    out: dict[str, str] = {}
    if pack.reference is None:
        return out
    for ref in pack.reference.classification.classes:
        local = local_class(pack, ref)
        if local is not None:
            out[ref] = local
    return out


def _channel_map(pack: Pack) -> dict[str, str]:
    out: dict[str, str] = {}
    for ch in pack.channels.values():
        out.setdefault(ch.maps_to, ch.id)
    return out
