"""``scenarios:`` — events with the decision the pack author expects; `wangge test PACK` runs them.

Events are kept as written and parsed when the scenarios run (parse_event needs the finished pack), so a
bad event shows up as a failing scenario with the same Chinese per-field messages as `wangge route`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..context import Context, did_you_mean, entries
from ..model import _empty, frozen_map, plain

#: Decision fields an ``expect:`` may name (a subset is checked; the others are free).
EXPECTABLE = ("level", "unit", "lead", "assist", "notify", "due", "time_limit", "priority", "state", "rules",
              "merge_with", "error")


@dataclass(frozen=True)
class Scenario:
    id: str
    description: str
    event: Mapping[str, Any]
    expect: Mapping[str, Any] = field(default_factory=_empty)
    after: tuple[Mapping[str, Any], ...] = ()  # earlier events fed to cross-event patterns first


def compile_scenarios(raw: Any, ctx: Context) -> tuple[Scenario, ...]:
    scenarios, seen = [], {}
    for i, entry in entries(raw):
        path = ("scenarios", i)
        if not ctx.unique(seen, entry["id"], path, "场景"):
            continue
        expect = entry.get("expect") or {}
        for key in expect:
            if key not in EXPECTABLE:
                ctx.problem("SCHEMA", (*path, "expect", key), f'预期结果中的字段 "{key}" 未知', did_you_mean(str(key), list(EXPECTABLE)))
        event = entry.get("event") or {}
        scenarios.append(Scenario(entry["id"], str(entry.get("description", "")), frozen_map(plain(event)),
                                  frozen_map(plain(expect)), tuple(plain(e) for e in entry.get("after") or ())))
    return tuple(scenarios)
