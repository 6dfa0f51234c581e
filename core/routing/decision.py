"""The result of routing one event: where it goes, who leads, who assists and is notified, and why."""
from __future__ import annotations

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
        return {"table": self.table, "rule": self.rule, "matched": self.matched, "why": self.why}


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
        out: dict[str, Any] = {
            "id": self.event_id, "level": self.level, "unit": self.unit, "lead": self.lead,
            "assist": list(self.assist), "notify": list(self.notify),
            "time_limit": str(self.time_limit) if self.time_limit else None,
            "due": self.due.isoformat() if self.due else None, "priority": self.priority, "state": self.state,
            "trace": [step.to_json() for step in self.trace]}
        if self.merge_with:
            out["merge_with"] = list(self.merge_with)
        return out
