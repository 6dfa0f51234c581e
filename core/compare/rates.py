"""Synthetic rates: what the scenario generator draws from and what the simulation assumes about work.

None of these numbers is published by any county. They are plausible defaults, written down here in one
place so that a report can print them and a user can replace any of them with ``--rates FILE`` (YAML or
JSON with the same keys; a key given replaces the default, mappings merge key by key). docs/compare.md
lists them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml


def _ro(d: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(d))


# Relative frequency of the reference 大类 (cn.base ids); a pack's subclasses share their major's weight.
CLASS_WEIGHTS = {"srhj": 14, "xcgg": 4, "sggl": 4, "tfsj": 1, "jmzx": 6, "kzsj": 1, "mdjf": 14, "shza": 6,
                 "aqyh": 10, "tsrq": 5, "zdqsn": 2, "gafw": 8, "bmdb": 8, "zcxc": 6, "xfwd": 3, "hlhx": 1,
                 "xyzb": 2, "qita": 3}
# Work content of one event of a reference 大类, in working hours, before the per-event spread.
EFFORT_HOURS = {"srhj": 1.5, "xcgg": 1.0, "sggl": 2.0, "tfsj": 1.0, "jmzx": 1.5, "kzsj": 2.0, "mdjf": 4.0,
                "shza": 3.0, "aqyh": 3.0, "tsrq": 2.0, "zdqsn": 2.0, "gafw": 2.0, "bmdb": 0.75, "zcxc": 0.5,
                "xfwd": 4.0, "hlhx": 2.0, "xyzb": 2.0, "qita": 1.5}
CHANNEL_WEIGHTS = {"grid_patrol": 50, "resident_report": 12, "hotline_12345": 20, "hotline_110": 2,
                   "hotline_119": 0.5, "hotline_120": 0.5, "hotline_12315": 2, "hotline_12348": 1,
                   "video_monitoring": 4, "dept_transfer": 2, "superior_assigned": 2, "walk_in": 3}
# Reports per hour of the day (0–23): patrols in working hours, hotlines into the evening.
HOUR_WEIGHTS = (0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.8, 2, 5, 9, 10, 9, 5, 4, 8, 9, 9, 7, 4, 3, 2, 1.5, 1, 0.5)
URGENCY = {"normal": 0.9, "urgent": 0.08, "emergency": 0.02}
PEOPLE = ((1, 60), (2, 15), (3, 8), (5, 6), (8, 4), (12, 3), (20, 2), (35, 1.2), (60, 0.8))
# Concurrent cases a department office works on, by kind (one office per unit of its level).
DEPARTMENT_CAPACITY = {"line": 4, "station": 3, "dispatched": 2, "center": 4, "party": 2, "mass": 1, "other": 2}


@dataclass(frozen=True)
class Rates:
    class_weights: Mapping[str, float] = field(default_factory=lambda: _ro(CLASS_WEIGHTS))
    channel_weights: Mapping[str, float] = field(default_factory=lambda: _ro(CHANNEL_WEIGHTS))
    other_channel_weight: float = 0.2       # any reference channel not listed above
    hour_weights: tuple[float, ...] = HOUR_WEIGHTS
    rest_day_weight: float = 0.45           # a day off (weekend, holiday) relative to a working day
    urgency: Mapping[str, float] = field(default_factory=lambda: _ro(URGENCY))
    emergency_majors: tuple[str, ...] = ("tfsj",)  # these 大类 are reported as 突发 (emergency) half the time
    people: tuple[tuple[int, float], ...] = PEOPLE
    places: int = 5000                      # size of the pool of reference places
    per_unit_daily: float = 0.4             # reports per bottom-level unit per day (sets the default span)
    effort_hours: Mapping[str, float] = field(default_factory=lambda: _ro(EFFORT_HOURS))
    effort_default: float = 2.0
    effort_spread: float = 0.6              # sigma of the log-normal factor on an event's work content
    step_minutes: float = 20.0              # each administrative workflow step (立案, 派遣, 结案 …)
    department_capacity: Mapping[str, float] = field(default_factory=lambda: _ro(DEPARTMENT_CAPACITY))
    department_overrides: Mapping[str, float] = field(default_factory=lambda: _ro({}))  # by department id
    role_default_staff: int = 1             # a role declared with count N (no number)
    staff_scale: float = 1.0                # multiply every headcount and capacity (what-if: more staff)

    def to_json(self) -> dict[str, Any]:
        return {f.name: (dict(v) if isinstance(v := getattr(self, f.name), Mapping) else
                         [list(x) if isinstance(x, tuple) else x for x in v] if isinstance(v, tuple) else v)
                for f in fields(self)}

    def with_overrides(self, raw: Mapping[str, Any]) -> Rates:
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ValueError(f"未知的参数 {', '.join(unknown)};可用: {', '.join(known)}")
        values: dict[str, Any] = {}
        for key, value in raw.items():
            current = getattr(self, key)
            if isinstance(current, Mapping):
                if not isinstance(value, Mapping):
                    raise ValueError(f"{key} 应为映射 (mapping)")
                values[key] = _ro({**current, **value})
            elif isinstance(current, tuple):
                values[key] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
            else:
                values[key] = type(current)(value)
        if "hour_weights" in values and len(values["hour_weights"]) != 24:
            raise ValueError("hour_weights 需要 24 个数 (one per hour)")
        return Rates(**{**{k: getattr(self, k) for k in known}, **values})


def load_rates(path: Path | None) -> Rates:
    if path is None:
        return Rates()
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path}: 应为 YAML/JSON 映射")
    return Rates().with_overrides(raw)
