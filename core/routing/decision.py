"""The result of routing one event: where it goes, who leads, who assists and is notified, and why."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..timelimit import TimeLimit


class RoutingError(ValueError):
    """A table whose hit policy was violated at run time (UNIQUE: several rules matched; ANY: they disagree).

    DMN treats both as errors rather than picking one, so a pack author sees the overlap in a scenario
    instead of cases silently going to whichever rule happens to come first."""

    def __init__(self, table: str, rules: tuple[str, ...], message: str) -> None:
        self.table = table
        self.rules = rules
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class TraceStep:
    table: str
    rule: str | None
    matched: bool
    why: str

    def to_json(self) -> dict[str, Any]:
        return trace_record(self.table, self.rule, self.matched, self.why)


def trace_record(table: str, rule: str | None, matched: bool, why: str) -> dict[str, Any]:
    """A trace step as stored: :meth:`TraceStep.to_json`, also built by ``Router.decide_json`` without the step."""
    return {"table": table, "rule": rule, "matched": matched, "why": why}


@dataclass(frozen=True, slots=True)
class Decision:
    """``lead``/``assist``/``notify`` entries are a department id, ``role@unit`` or ``unit:CODE``."""

    event_id: str
    level: str
    unit: str
    lead: str | None
    assist: tuple[str, ...]
    notify: tuple[str, ...]
    time_limit: TimeLimit | None
    due: datetime | None
    priority: int
    state: str | None
    trace: tuple[TraceStep, ...]
    merge_with: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out = decision_record(self.event_id, self.level, self.unit, self.lead, self.assist, self.notify,
                              self.time_limit, self.due.isoformat() if self.due else None, self.priority,
                              self.state, [step.to_json() for step in self.trace])
        if self.merge_with:
            out["merge_with"] = list(self.merge_with)
        return out


def decision_record(event_id: str, level: str, unit: str, lead: str | None, assist: Iterable[str],
                    notify: Iterable[str], time_limit: TimeLimit | None, due: str | None, priority: int,
                    state: str | None, trace: list[dict[str, Any]]) -> dict[str, Any]:
    """A decision as stored (:meth:`Decision.to_json` without ``merge_with``), ``due`` already ISO text: the
    one layout, shared with ``Router.decide_json``, which builds it without the Decision and its steps."""
    return {"id": event_id, "level": level, "unit": unit, "lead": lead, "assist": list(assist),
            "notify": list(notify), "time_limit": str(time_limit) if time_limit else None, "due": due,
            "priority": priority, "state": state, "trace": trace}
