"""Resolving places (LevelRef) and receivers (Target) on the grid tree, relative to one event.

A pack never lists "the 社区 of grid 0101"; it says ``{ancestor: village}`` and the tree answers, so one
rule serves every unit. Where the tree cannot answer (an event reported above the requested level), the
nearest sensible unit is used and the caller notes it in the trace.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..pack.model import Grid, Role, Unit
from ..pack.sections.routing import LevelRef, Target


@dataclass(frozen=True)
class Resolver:
    grid: Grid
    roles_by_kind: Mapping[str, tuple[Role, ...]]
    roles: Mapping[str, Role]

    @classmethod
    def for_grid(cls, grid: Grid) -> Resolver:
        by_kind: dict[str, list[Role]] = {}
        for role in grid.roles:
            by_kind.setdefault(role.kind, []).append(role)
        return cls(grid, {k: tuple(v) for k, v in by_kind.items()}, {r.id: r for r in grid.roles})

    def place(self, ref: LevelRef, reporting: str, handling: str) -> tuple[Unit, bool]:
        """→ (unit, exact). ``exact`` is False when the tree had no unit at the requested level."""
        units = self.grid.units
        if ref.kind == "level":
            found = self.grid.ancestor_at(reporting, str(ref.value))
            return (found, True) if found is not None else (units[reporting], False)
        if ref.kind == "up":
            unit = units[reporting]
            for _ in range(int(ref.value or 0)):
                if unit.parent is None:
                    return unit, False
                unit = units[unit.parent]
            return unit, True
        if ref.kind == "handling":
            return units[handling], True
        if ref.kind == "code":
            return units[str(ref.value)], True
        return units[reporting], True

    def target(self, target: Target, reporting: str, handling: str) -> tuple[str, ...]:
        if target.kind == "department":
            return (target.id,)
        if target.kind == "unit":
            unit, _ = self.place(target.at or LevelRef("handling"), reporting, handling)
            return (f"unit:{unit.code}",)
        if target.kind == "role":
            role = self.roles[target.id]
            ref = target.at or LevelRef("level", role.level)
            unit, _ = self.place(ref, reporting, handling)
            return (f"{role.id}@{unit.code}",)
        # role_kind: the roles of that kind at the unit, else at the nearest unit above that has them.
        start, _ = self.place(target.at or LevelRef("handling"), reporting, handling)
        kinds = self.roles_by_kind.get(target.id, ())
        for unit in self.grid.ancestors(start.code):
            here = tuple(f"{r.id}@{unit.code}" for r in kinds if r.level == unit.level)
            if here:
                return here
        return ()
