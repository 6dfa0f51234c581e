"""``departments:`` (条) and ``duties:`` — the grid workers' duty list with 准入 status and provenance."""
from __future__ import annotations

from typing import Any

from ..context import Context, did_you_mean, entries
from ..model import Department, Duties, DutyCategory, DutyItem, frozen_map
from .manifest import as_date

ABOVE = "above"


def compile_departments(raw: Any, levels: list[str], ctx: Context) -> dict[str, Department]:
    departments: dict[str, Department] = {}
    seen: dict = {}
    for i, entry in entries(raw):
        path = ("departments", i)
        if not ctx.unique(seen, entry["id"], path, "部门"):
            continue
        what = f'部门 "{entry["id"]}"'
        name = ctx.require(entry, "name", path, what)
        level = ctx.require(entry, "level", path, what)
        if level is not None and level != ABOVE and level not in levels:
            ctx.problem("UNKNOWN_LEVEL", (*path, "level"), f'{what} 引用了未声明的层级 "{level}"',
                        did_you_mean(level, [*levels, ABOVE]))
        departments[entry["id"]] = Department(entry["id"], name or entry["id"], level or "", entry.get("kind", "line"),
                                              entry.get("source", "published"), entry.get("name_en", ""))
    return departments


def compile_duties(raw: Any, levels: list[str], departments: dict[str, Department], ctx: Context) -> Duties:
    raw = raw if isinstance(raw, dict) else {}
    categories, seen_items, seen_cats = [], {}, {}
    for c, cat in entries(raw.get("categories")):
        path = ("duties", "categories", c)
        if not ctx.unique(seen_cats, cat["id"], path, "职责类别"):
            continue
        name = ctx.require(cat, "name", path, f'职责类别 "{cat["id"]}"')
        items = []
        for i, item in entries(cat.get("items")):
            item_path = (*path, "items", i)
            if ctx.unique(seen_items, item["id"], item_path, "职责事项"):
                items.append(_item(item, cat["id"], item_path, levels, departments, ctx))
        categories.append(DutyCategory(cat["id"], name or cat["id"], tuple(items)))
    duties = Duties(tuple(categories), frozen_map(raw.get("expected") or {}))
    _check_counts(duties, ctx)
    return duties


def _item(item: dict, category: str, path: tuple, levels: list[str], departments: dict[str, Department],
          ctx: Context) -> DutyItem:
    what = f'职责事项 "{item["id"]}"'
    name = ctx.require(item, "name", path, what)
    source = ctx.require(item, "source", path, what)
    owners = tuple(item.get("departments") or ())
    for n, dept in enumerate(owners):
        if dept not in departments:
            ctx.problem("UNKNOWN_DEPARTMENT", (*path, "departments", n), f'{what} 引用了未声明的部门 "{dept}"',
                        did_you_mean(dept, list(departments)))
    level = item.get("handle_level")
    if level is not None and level not in levels:
        ctx.problem("UNKNOWN_LEVEL", (*path, "handle_level"), f'{what} 的就地处置层级 "{level}" 未声明',
                    did_you_mean(level, levels))
    admission = item.get("admission", "admitted")
    until = as_date(item.get("until"))
    if admission == "temporary" and until is None:
        ctx.problem("TEMPORARY_WITHOUT_END", path, f"{what} 是临时准入事项,但没有截止日期 until",
                    "临时事项须经批准并写明截止日期,如 until: 2025-12-31")
    patrol = item.get("patrol") or {}
    return DutyItem(item["id"], name or item["id"], category, owners, level, admission, until,
                    item.get("approved_by", ""), source or "illustrative", bool(patrol.get("required", False)),
                    patrol.get("frequency"))


def _check_counts(duties: Duties, ctx: Context) -> None:
    actual = {"categories": len(duties.categories), "items": len(duties.items), "departments": len(duties.departments)}
    names = {"categories": "类", "items": "项", "departments": "个部门"}
    for key, expected in duties.expected.items():
        if actual[key] != expected:
            ctx.problem("COUNT_MISMATCH",
                        ("duties", "expected", key),
                        f"声明 {expected}{names[key]},实际 {actual[key]}{names[key]} (declared count not met)",
                        "departments 计的是至少负责一项事项的部门数" if key == "departments" else
                        "来源只给出数量时,用示意事项 (source: illustrative) 补足结构")
