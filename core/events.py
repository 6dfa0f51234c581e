"""Events: what a grid worker, a resident or a hotline reports, checked against a pack.

An event may name its class and channel in the pack's own vocabulary (``class``, ``channel``) or in the
reference vocabulary (``ref_class``, ``ref_channel``) that every pack maps onto — the latter is how the
same event stream is replayed through different counties' models. See docs/events.md.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from .pack.model import Pack

CHINA = ZoneInfo("Asia/Shanghai")
URGENCIES = ("normal", "urgent", "emergency")
URGENCY_NAMES = {"normal": "一般", "urgent": "紧急", "emergency": "突发"}
KNOWN_KEYS = frozenset({"id", "class", "ref_class", "channel", "ref_channel", "unit", "reported_at", "urgency",
                        "people", "reporter", "reporter_role", "title", "description", "location",
                        "external_id", "data", "place"})  # place: comparison placement (docs/compare.md)


class EventError(ValueError):
    """An event that does not fit the pack; ``errors`` maps each bad field to a Chinese message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


@dataclass(frozen=True)
class Event:
    id: str
    event_class: str
    channel: str
    unit: str
    reported_at: datetime
    urgency: str = "normal"
    people: int = 0
    reporter: str = ""
    reporter_role: str = ""
    title: str = ""
    description: str = ""
    location: tuple[float, float] | None = None
    external_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "class": self.event_class, "channel": self.channel, "unit": self.unit,
                               "reported_at": self.reported_at.isoformat(), "urgency": self.urgency,
                               "people": self.people}
        # The optional texts, only when set, in this order (attribute reads, not getattr by name: per case).
        if self.reporter:
            out["reporter"] = self.reporter
        if self.reporter_role:
            out["reporter_role"] = self.reporter_role
        if self.title:
            out["title"] = self.title
        if self.description:
            out["description"] = self.description
        if self.external_id:
            out["external_id"] = self.external_id
        if self.location:
            out["location"] = list(self.location)
        if self.data:
            out["data"] = dict(self.data)
        return out


def event_fields(event: Event, pack: Pack) -> dict[str, Any]:
    """The names a routing or scoring expression can use for an event (documented in docs/events.md)."""
    cls = pack.events.classes[event.event_class]
    major = cls.parent or cls.id
    unit = pack.grid.units[event.unit]
    fields: dict[str, Any] = dict(event.data)
    fields.update({
        "id": event.id, "class": cls.id, "major": major, "ref_class": cls.maps_to,
        "ref_major": pack.events.classes[major].maps_to, "channel": event.channel,
        "ref_channel": pack.channels[event.channel].maps_to if event.channel in pack.channels else event.channel,
        "unit": unit.code, "level": unit.level, "zone": unit.zone, "urgency": event.urgency,
        "people": event.people, "reporter_role": event.reporter_role,
        "reported_at": event.reported_at.isoformat(), "hour": event.reported_at.hour,
        "weekday": event.reported_at.isoweekday(),
    })
    return fields


def parse_event(raw: Any, pack: Pack) -> Event:
    """Check one event (a JSON object) against ``pack``; EventError lists every bad field at once."""
    if not isinstance(raw, Mapping):
        raise EventError({"$": "事件必须是 JSON 对象 (an event must be a JSON object)"})
    errors: dict[str, str] = {}
    if not KNOWN_KEYS.issuperset(raw):
        unknown = sorted(set(raw) - KNOWN_KEYS)
        errors["$"] = f"未知字段 {', '.join(unknown)};表单字段请放在 data 中 (unknown keys; put form fields under data)"
    event_id = _text(raw, "id", errors, required=True)
    event_class = _class(raw, pack, errors)
    channel = _channel(raw, pack, errors)
    unit = _text(raw, "unit", errors, required=True)
    if unit and unit not in pack.grid.units:
        errors["unit"] = f'网格单元 "{unit}" 不存在于规则包 {pack.id} (unknown grid unit)'
    reported_at = _time(raw.get("reported_at"), errors)
    urgency = raw.get("urgency", "normal")
    if urgency not in URGENCIES:
        errors["urgency"] = f'紧急程度 "{urgency}" 无效,可选 normal 一般 / urgent 紧急 / emergency 突发'
    people = raw.get("people", 0)
    if not isinstance(people, int) or isinstance(people, bool) or people < 0:
        errors["people"] = "涉及人数必须是非负整数 (people must be a non-negative integer)"
    data = raw.get("data", {})
    if not isinstance(data, Mapping):
        errors["data"] = "data 必须是 JSON 对象 (data must be an object)"
    location = _location(raw.get("location"), errors)
    _check_texts(raw, errors)
    if errors:
        raise EventError(errors)
    external_id = raw.get("external_id")
    # Positional, in field order: a frozen dataclass's __init__ taking 14 keywords costs a third more.
    return Event(event_id, event_class, channel, unit, reported_at, urgency, people, str(raw.get("reporter", "")),
                 str(raw.get("reporter_role", "")), str(raw.get("title", "")), str(raw.get("description", "")),
                 location, str(external_id) if external_id is not None else None, MappingProxyType(dict(data)))


TEXT_KEYS = ("id", "reporter", "reporter_role", "title", "description", "external_id")
# Stored in columns of that width (cases.external_id, cases.reported_by, case_facts.reporter): PostgreSQL
# refuses longer values, which would fail the whole group commit the event shares with others.
TEXT_LIMITS = {"external_id": 128, "reporter": 128}


def _check_texts(raw: Mapping, errors: dict[str, str]) -> None:
    """Text no database column can hold is refused here, per field, rather than by the database."""
    for key in TEXT_KEYS:
        value = raw.get(key)
        if value is None or key in errors:
            continue
        text = str(value)
        limit = TEXT_LIMITS.get(key)
        if "\x00" in text:
            errors[key] = f"{key} 不能包含空字符 U+0000 (must not contain NUL characters)"
        elif limit is not None and len(text) > limit:
            errors[key] = f"{key} 最长 {limit} 个字符,现为 {len(text)} 个 (at most {limit} characters)"


def _text(raw: Mapping, key: str, errors: dict[str, str], required: bool = False) -> str:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            errors[key] = f"缺少必填字段 {key} (required)"
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        errors[key] = f"{key} 必须是文本 (must be text)"
        return ""
    return str(value)


def _class(raw: Mapping, pack: Pack, errors: dict[str, str]) -> str:
    if raw.get("class") is not None:
        value = str(raw["class"])
        if value not in pack.events.classes:
            errors["class"] = f'事件分类 "{value}" 不存在于规则包 {pack.id} (unknown event class)'
        return value
    if raw.get("ref_class") is not None:
        local = local_class(pack, str(raw["ref_class"]))
        if local is None:
            errors["ref_class"] = f'参考分类 "{raw["ref_class"]}" 在规则包 {pack.id} 中没有对应的分类 (no local class maps to it)'
        return local or ""
    errors["class"] = "缺少事件分类 class(或参考分类 ref_class)(required)"
    return ""


def _channel(raw: Mapping, pack: Pack, errors: dict[str, str]) -> str:
    if raw.get("channel") is not None:
        value = str(raw["channel"])
        if value not in pack.channels:
            errors["channel"] = f'渠道 "{value}" 不存在于规则包 {pack.id} (unknown channel)'
        return value
    if raw.get("ref_channel") is not None:
        local = next((c.id for c in pack.channels.values() if c.maps_to == raw["ref_channel"]), None)
        if local is None:
            errors["ref_channel"] = f'参考渠道 "{raw["ref_channel"]}" 在规则包 {pack.id} 中没有对应渠道'
        return local or ""
    errors["channel"] = "缺少渠道 channel(或参考渠道 ref_channel)(required)"
    return ""


def local_class(pack: Pack, ref_class: str) -> str | None:
    """The pack's class for a reference class: one with the same id, else the first that maps onto it."""
    if ref_class in pack.events.classes and pack.events.classes[ref_class].maps_to == ref_class:
        return ref_class
    return next((c.id for c in pack.events.classes.values() if c.maps_to == ref_class), None)


def _time(value: Any, errors: dict[str, str]) -> datetime:
    if value is None:
        errors["reported_at"] = "缺少上报时间 reported_at (ISO 8601, e.g. 2026-03-02T09:30:00+08:00)"
        return datetime.min.replace(tzinfo=CHINA)
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            errors["reported_at"] = f'时间 "{value}" 不是 ISO 8601 格式 (e.g. 2026-03-02T09:30:00+08:00)'
            return datetime.min.replace(tzinfo=CHINA)
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def _location(value: Any, errors: dict[str, str]) -> tuple[float, float] | None:
    if value is None:
        return None
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            and -90 <= value[0] <= 90 and -180 <= value[1] <= 180):
        return (float(value[0]), float(value[1]))
    errors["location"] = "位置应为 [纬度, 经度] (location must be [lat, lon])"
    return None
