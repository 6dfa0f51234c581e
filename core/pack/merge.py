"""Merging a pack over the pack it extends: mappings key by key, lists of entries by id (units by code)."""
from __future__ import annotations

from typing import Any

from .problems import Position, Problem
from .yamlsrc import YDict, YList

KEY_FIELDS = ("id", "code")


def entry_key(value: Any) -> tuple[str, Any] | None:
    """``("id", "x")`` for an entry identified by id (or code); None for anything else."""
    if isinstance(value, dict):
        for name in KEY_FIELDS:
            if isinstance(value.get(name), (str, int)):
                return name, value[name]
    return None


def merge(base: Any, child: Any, problems: list[Problem]) -> Any:
    """The child's value over the base's; deterministic, never mutating either side."""
    if isinstance(base, dict) and isinstance(child, dict):
        return _merge_mapping(base, child, problems)
    if isinstance(base, list) and isinstance(child, list) and _is_entry_list(base) and _is_entry_list(child):
        return _merge_entries(base, child, problems)
    return strip_removals(child, problems)


def _is_entry_list(items: list[Any]) -> bool:
    return any(entry_key(item) is not None for item in items) or not items


def _merge_mapping(base: dict, child: dict, problems: list[Problem]) -> YDict:
    out = YDict(pos=getattr(child, "pos", None), key_pos=dict(getattr(base, "key_pos", {})))
    for key, value in base.items():
        out[key] = value
    child_pos = getattr(child, "key_pos", {})
    for key, value in child.items():
        out[key] = merge(base[key], value, problems) if key in base else strip_removals(value, problems)
        if key in child_pos:
            out.key_pos[key] = child_pos[key]
    return out


def _merge_entries(base: list, child: list, problems: list[Problem]) -> YList:
    items: list[Any] = list(base)
    positions = list(getattr(base, "item_pos", [None] * len(base)))
    index = {entry_key(item): i for i, item in enumerate(items) if entry_key(item) is not None}
    removed: set[int] = set()
    child_positions = getattr(child, "item_pos", [])
    written: dict[tuple[str, Any], Any] = {}
    for n, entry in enumerate(child):
        pos = child_positions[n] if n < len(child_positions) else None
        key = entry_key(entry)
        if key is not None and key in written:
            problems.append(Problem("DUPLICATE_ID", f'重复的 {key[0]} "{key[1]}" (duplicate)', pos or Position(""),
                                    f"第一次出现在 {written[key]}"))
            continue
        if key is not None:
            written[key] = pos
        if key is not None and key in index:
            i = index[key]
            if entry.get("remove") is True:
                removed.add(i)
                continue
            items[i] = merge(items[i], entry, problems)
            positions[i] = pos or positions[i]
            continue
        if key is not None and isinstance(entry, dict) and entry.get("remove") is True:
            _unknown_removal(key, pos, problems)
            continue
        if key is not None:
            index[key] = len(items)
        items.append(strip_removals(entry, problems))
        positions.append(pos)
    kept = [i for i in range(len(items)) if i not in removed]
    return YList([items[i] for i in kept], getattr(child, "pos", None),
                 [positions[i] for i in kept])


def strip_removals(value: Any, problems: list[Problem]) -> Any:
    """A value with no base to merge into: any ``remove: true`` entry inside it removes nothing."""
    if not _has_removal(value):
        return value  # the common case (a whole grid of units): nothing to drop, nothing to copy
    if isinstance(value, list):
        positions = getattr(value, "item_pos", [])
        kept, kept_pos = [], []
        for n, item in enumerate(value):
            pos = positions[n] if n < len(positions) else None
            key = entry_key(item)
            if key is not None and isinstance(item, dict) and item.get("remove") is True:
                _unknown_removal(key, pos, problems)
                continue
            kept.append(strip_removals(item, problems))
            kept_pos.append(pos)
        return YList(kept, getattr(value, "pos", None), kept_pos)
    if isinstance(value, dict):
        out = YDict(pos=getattr(value, "pos", None), key_pos=getattr(value, "key_pos", {}))
        for key, item in value.items():
            out[key] = strip_removals(item, problems)
        return out
    return value


def _has_removal(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("remove") is True:
                return True
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return False


def _unknown_removal(key: tuple[str, Any], pos: Any, problems: list[Problem]) -> None:
    problems.append(Problem(
        "REMOVE_UNKNOWN", f'要删除的条目 {key[0]}="{key[1]}" 在基础包中不存在 (nothing to remove)',
        pos or Position(""), "remove: true 只能删除继承来的同 id 条目"))
