"""The compiled pack: immutable objects the engine reads. Built only by :mod:`wangge.core.pack.loader`."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..timelimit import TimeLimit
from ..workcal import WorkCalendar

if TYPE_CHECKING:
    from .sections.forms import Form, FormField
    from .sections.plugins import PluginEntry
    from .sections.routing import Routing
    from .sections.scenarios import Scenario
    from .sections.scoring import Scoring
    from .sections.workflow import EscalationRule, Workflow

EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return EMPTY


def plain(value: Any) -> Any:
    """A pack tree as plain JSON values: mappings with text keys, lists, dates as ISO text."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def frozen_map(items: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(items or {}))


@dataclass(frozen=True)
class Source:
    """A document the pack follows (a seed report, a standard, a 文号)."""

    id: str
    title: str
    publisher: str = ""
    date: date | None = None
    doc_no: str | None = None
    file: str = ""
    url: str = ""


@dataclass(frozen=True)
class Manifest:
    id: str
    name: str
    region: str
    version: str
    name_en: str = ""
    extends_id: str | None = None
    extends_range: str = ""
    effective: date | None = None
    reference: bool = False
    sources: tuple[Source, ...] = ()
    description: str = ""

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"


@dataclass(frozen=True)
class Level:
    id: str
    name: str
    depth: int
    name_en: str = ""
    source: str = "published"


@dataclass(frozen=True)
class Headcount:
    """Staff per unit: exactly n (min == max), a range, or N (max is None)."""

    min: int = 0
    max: int | None = None

    def __str__(self) -> str:
        if self.max is None:
            return "N" if self.min == 0 else f"{self.min}+"
        return str(self.min) if self.min == self.max else f"{self.min}–{self.max}"


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    level: str
    count: Headcount
    kind: str = "other"
    title: str = ""
    name_en: str = ""
    total: int | None = None  # headcount across the whole level, when the source gives only that
    source: str = "published"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    level: str
    parent: str | None
    zone: str | None
    source: str = "published"
    type: str = ""  # 村 / 社区, 镇 / 街道 …: a kind of unit within a level


@dataclass(frozen=True)
class Grid:
    """Levels top to bottom, the roles staffing them, and the unit tree keyed by stable code."""

    levels: tuple[Level, ...]
    roles: tuple[Role, ...]
    units: Mapping[str, Unit]
    children: Mapping[str, tuple[str, ...]]

    def level(self, level_id: str) -> Level | None:
        return next((lv for lv in self.levels if lv.id == level_id), None)

    @property
    def roots(self) -> tuple[str, ...]:
        return self.children.get("", ())

    def ancestors(self, code: str) -> Iterator[Unit]:
        """The unit itself, then each unit above it up to the top."""
        current: str | None = code
        while current is not None:
            unit = self.units[current]
            yield unit
            current = unit.parent

    def ancestor_at(self, code: str, level_id: str) -> Unit | None:
        """The unit at ``level_id`` on the path from ``code`` to the top (the unit itself included)."""
        path = self._ancestor_index.get(code)
        if path is None:
            self.units[code]   # unknown code: KeyError, as the walk up the tree raised
        return path.get(level_id) if path is not None else None

    @cached_property
    def _ancestor_index(self) -> Mapping[str, Mapping[str, Unit]]:
        """For each unit, its ancestors (itself included) by level, nearest first. Routing asks this for
        most events (``{ancestor: village}`` targets, several per event): the generator walk up the tree was
        7% of intake time (py-spy, bench/intake.py); built once per grid (cached on the frozen instance)."""
        index: dict[str, dict[str, Unit]] = {}
        for code in self.units:
            path: dict[str, Unit] = {}
            for unit in self.ancestors(code):
                path.setdefault(unit.level, unit)
            index[code] = path
        return index

    def units_at(self, level_id: str) -> tuple[Unit, ...]:
        return tuple(u for u in self.units.values() if u.level == level_id)

    def count_by_level(self) -> dict[str, int]:
        counts = {lv.id: 0 for lv in self.levels}
        for unit in self.units.values():
            counts[unit.level] += 1
        return counts


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    level: str
    kind: str = "line"
    source: str = "published"
    name_en: str = ""


@dataclass(frozen=True)
class DutyItem:
    id: str
    name: str
    category: str
    departments: tuple[str, ...]
    handle_level: str | None
    admission: str = "admitted"
    until: date | None = None
    approved_by: str = ""
    source: str = "illustrative"
    patrol_required: bool = False
    patrol_frequency: str | None = None


@dataclass(frozen=True)
class DutyCategory:
    id: str
    name: str
    items: tuple[DutyItem, ...]


@dataclass(frozen=True)
class Duties:
    categories: tuple[DutyCategory, ...] = ()
    expected: Mapping[str, int] = field(default_factory=_empty)

    @property
    def items(self) -> tuple[DutyItem, ...]:
        return tuple(item for cat in self.categories for item in cat.items)

    @property
    def departments(self) -> frozenset[str]:
        return frozenset(d for item in self.items for d in item.departments)


@dataclass(frozen=True)
class EventClass:
    """A 大类 (``parent`` is None) or 小类. ``maps_to`` names the reference class it corresponds to."""

    id: str
    code: str
    name: str
    parent: str | None
    maps_to: str
    time_limits: Mapping[str, TimeLimit] = field(default_factory=_empty)
    name_en: str = ""
    source: str = "published"

    def time_limit(self, zone: str | None = None) -> TimeLimit | None:
        """The limit for a zone class (A/B/C), falling back to the class-wide limit ``*``."""
        if zone is not None and zone in self.time_limits:
            return self.time_limits[zone]
        return self.time_limits.get("*")


@dataclass(frozen=True)
class Classification:
    classes: Mapping[str, EventClass]
    standard_range: tuple[int, int] = (1, 79)
    local_range: tuple[int, int] = (80, 999)

    @property
    def majors(self) -> tuple[EventClass, ...]:
        return tuple(c for c in self.classes.values() if c.parent is None)

    def subclasses(self, major_id: str | None = None) -> tuple[EventClass, ...]:
        return tuple(c for c in self.classes.values()
                     if c.parent is not None and (major_id is None or c.parent == major_id))


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    maps_to: str
    name_en: str = ""
    source: str = "published"


@dataclass(frozen=True)
class Reference:
    """The shared vocabulary (the reference pack's classification and channels) packs map onto."""

    pack: str
    classification: Classification
    channels: Mapping[str, Channel]


@dataclass(frozen=True)
class FactCount:
    fact: str
    where: Any = None  # a compiled wangge.core.expr.Expression, or None
    where_source: str = ""
    count: str = "cases"  # cases: distinct cases; events: every occurrence (返工 twice counts twice)


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    numerator: FactCount
    denominator: FactCount | None  # None for a plain count (unit: count), e.g. 上报数, 回访数
    unit: str = "percent"
    name_en: str = ""
    description: str = ""


@dataclass(frozen=True)
class Pack:
    """A loaded, validated, merged and compiled rule pack."""

    manifest: Manifest
    lineage: tuple[str, ...]
    root: Path
    calendar: WorkCalendar
    grid: Grid
    departments: Mapping[str, Department]
    duties: Duties
    events: Classification
    channels: Mapping[str, Channel]
    indicators: Mapping[str, Indicator]
    reference: Reference
    merged: Mapping[str, Any] = field(default_factory=_empty, repr=False, compare=False)
    fields: Mapping[str, "FormField"] = field(default_factory=_empty)  # the field registry (sections/forms.py)
    forms: Mapping[str, "Form"] = field(default_factory=_empty)
    workflow: "Workflow | None" = None  # the case state machine (sections/workflow.py); None: no workflow declared
    escalation: tuple["EscalationRule", ...] = ()  # overdue rules, in declared order
    plugins: Mapping[str, "PluginEntry"] = field(default_factory=_empty)  # enabled plugins (sections/plugins.py)
    routing: "Routing | None" = None  # decision tables and cross-event patterns (sections/routing.py)
    scenarios: tuple["Scenario", ...] = ()  # events with expected decisions, run by `wangge test`
    scoring: "Scoring | None" = None  # schemes, rankings (off by default), flags (sections/scoring.py)
    # What the pack was compiled from (manifest, lineage, merged sections, reference vocabulary): stored
    # when a version is published and compiled again, by the same compiler, for cases pinned to it.
    snapshot: Mapping[str, Any] = field(default_factory=_empty, repr=False, compare=False)

    @property
    def id(self) -> str:
        return self.manifest.id

    @cached_property
    def content(self) -> dict[str, Any]:
        """The snapshot as plain JSON: what ``pack_versions`` stores for a published version."""
        return plain(self.snapshot)

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the content; computed once per compiled pack (intake publishes on every case)."""
        return hashlib.sha256(json.dumps(self.content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()

    @property
    def version(self) -> str:
        return self.manifest.version

    def summary(self) -> str:
        """The one line `wangge check` prints for a pack that loads."""
        levels = "/".join(lv.name for lv in self.grid.levels)
        items = self.duties.items
        illustrative = sum(1 for i in items if i.source == "illustrative")
        return (f"{self.manifest.name} — {len(self.grid.levels)} 级 ({levels}), {len(self.grid.units)} 个单元, "
                f"{len(self.departments)} 个部门, 职责 {len(self.duties.categories)} 类 {len(items)} 项"
                f" (示意 {illustrative}), 事件 {len(self.events.majors)} 大类 {len(self.events.subclasses())} 小类")
