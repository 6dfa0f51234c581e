"""The ``grid:`` section: levels top to bottom, roles, and the unit tree (listed or generated)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..context import Context, did_you_mean, entries
from ..model import Grid, Headcount, Level, Role, Unit, frozen_map

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
ALLOWED_PLACEHOLDER = re.compile(r"^(parent|parent_name|n(:0?\d{1,2}d?)?)$")
MAX_UNITS = 1_000_000


def compile_grid(raw: Any, ctx: Context) -> Grid:
    raw = raw if isinstance(raw, dict) else {}
    levels = _levels(raw.get("levels"), ctx)
    depth = {lv.id: lv.depth for lv in levels}
    roles = _roles(raw.get("roles"), depth, ctx)
    builder = _UnitBuilder(ctx, depth)
    builder.entries(raw.get("units"), None, (0, 1), ("grid", "units"))
    children: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in builder.children.items()}
    return Grid(tuple(levels), tuple(roles), frozen_map(builder.units), frozen_map(children))


def _levels(raw: Any, ctx: Context) -> list[Level]:
    levels, seen = [], {}
    for i, entry in entries(raw):
        path = ("grid", "levels", i)
        if ctx.unique(seen, entry["id"], path, "层级"):
            name = ctx.require(entry, "name", path, f'层级 "{entry["id"]}"') or entry["id"]
            levels.append(Level(entry["id"], name, len(levels), entry.get("name_en", ""),
                                entry.get("source", "published")))
    return levels


def _roles(raw: Any, depth: dict[str, int], ctx: Context) -> list[Role]:
    roles, seen = [], {}
    for i, entry in entries(raw):
        path = ("grid", "roles", i)
        if not ctx.unique(seen, entry["id"], path, "角色"):
            continue
        what = f'角色 "{entry["id"]}"'
        name = ctx.require(entry, "name", path, what)
        level = ctx.require(entry, "level", path, what)
        if level is not None and level not in depth:
            ctx.problem("UNKNOWN_LEVEL", (*path, "level"), f'{what} 引用了未声明的层级 "{level}"',
                        did_you_mean(level, list(depth)))
        roles.append(Role(entry["id"], name or entry["id"], level or "", _headcount(entry.get("count", "N")),
                          entry.get("kind", "other"), entry.get("title", ""), entry.get("name_en", ""),
                          entry.get("total"), entry.get("source", "published")))
    return roles


def _headcount(raw: Any) -> Headcount:
    if isinstance(raw, int):
        return Headcount(raw, raw)
    if isinstance(raw, dict):
        return Headcount(raw.get("min", 0), raw.get("max"))
    return Headcount(0, None)


@dataclass
class _UnitBuilder:
    ctx: Context
    depth: dict[str, int]

    def __post_init__(self) -> None:
        self.units: dict[str, Unit] = {}
        self.children: dict[str, list[str]] = {}
        self.seen: dict[str, tuple] = {}

    def entries(self, raw: Any, parent: Unit | None, sibling: tuple[int, int], path: tuple) -> None:
        for i, entry in entries(raw):
            if "generate" in entry:
                self._generate(entry["generate"], parent, sibling, (*path, i, "generate"))
            else:
                self._listed(entry, parent, (*path, i))

    def _listed(self, entry: dict, parent: Unit | None, path: tuple) -> None:
        code = str(entry["code"])
        what = f'单元 "{code}"'
        name = self.ctx.require(entry, "name", path, what)
        level = self.ctx.require(entry, "level", path, what)
        unit = self._add(code, name or code, level, parent, entry.get("zone"), entry.get("source", "published"), path,
                         entry.get("type", ""))
        if unit is not None:
            self.entries(entry.get("children"), unit, (0, 1), (*path, "children"))

    def _generate(self, spec: dict, parent: Unit | None, sibling: tuple[int, int], path: tuple) -> None:
        if not self._patterns_ok(spec, path):
            return
        if "count" in spec:
            count = spec["count"]
        else:
            index, siblings = sibling
            share, extra = divmod(spec["total"], siblings)
            count = share + (1 if index < extra else 0)
        made = []
        for n in range(1, count + 1):
            fields = {"parent": parent.code if parent else "", "parent_name": parent.name if parent else "", "n": n}
            unit = self._add(spec["code"].format(**fields), spec["name"].format(**fields), spec["level"], parent,
                             spec.get("zone"), spec.get("source", "illustrative"), path, spec.get("type", ""))
            if unit is None:
                return
            made.append(unit)
        for index, unit in enumerate(made):
            self.entries(spec.get("children"), unit, (index, len(made)), (*path, "children"))

    def _patterns_ok(self, spec: dict, path: tuple) -> bool:
        ok = True
        for key in ("code", "name"):
            bad = [p for p in PLACEHOLDER.findall(spec[key]) if not ALLOWED_PLACEHOLDER.match(p)]
            if not bad:
                try:
                    spec[key].format(parent="", parent_name="", n=1)
                except (ValueError, KeyError, IndexError):
                    bad = [spec[key]]  # unbalanced braces such as "x}{n}"
            for placeholder in bad:
                self.ctx.problem("SCHEMA", (*path, key),
                                 f'生成模式 {key} 中的占位符 "{{{placeholder}}}" 无效 (bad placeholder)',
                                 "可用: {parent} {parent_name} {n} {n:03};花括号须成对")
                ok = False
        return ok

    def _add(self, code: str, name: str, level: str | None, parent: Unit | None, zone: str | None,
             source: str, path: tuple, unit_type: str = "") -> Unit | None:
        if len(self.units) >= MAX_UNITS:
            self.ctx.problem("SCHEMA", path, f"网格单元超过 {MAX_UNITS} 个 (too many units)", "")
            return None
        if level is not None and level not in self.depth:
            self.ctx.problem("UNKNOWN_LEVEL", (*path, "level"), f'单元 "{code}" 引用了未声明的层级 "{level}"',
                             did_you_mean(level, list(self.depth)))
            return None
        if level is None:
            return None
        if parent is not None and self.depth[level] != self.depth[parent.level] + 1:
            expected = next((lv for lv, d in self.depth.items() if d == self.depth[parent.level] + 1), None)
            self.ctx.problem("LEVEL_ORDER", (*path, "level"),
                             f'单元 "{code}" 的层级 "{level}" 不是上级 "{parent.code}" ({parent.level}) 的下一层', f"应为 {expected}" if expected else "上级已是最低层级")
            return None
        if not self.ctx.unique(self.seen, code, path, "单元编码"):
            return None
        unit = Unit(code, name, level, parent.code if parent else None, zone or (parent.zone if parent else None),
                    source, unit_type)
        self.units[code] = unit
        self.children.setdefault(parent.code if parent else "", []).append(code)
        return unit
