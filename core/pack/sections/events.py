"""``events:`` (大类/小类, codes, time limits) and ``channels:``, mapped onto the reference vocabulary."""
from __future__ import annotations

from typing import Any

from ...timelimit import TimeLimit, TimeLimitError, parse_time_limit
from ..context import Context, did_you_mean, entries
from ..model import Channel, Classification, EventClass, Reference, frozen_map

DEFAULT_RANGES = {"standard": (1, 79), "local": (80, 999)}


def compile_classification(raw: Any, ctx: Context, reference: Reference | None) -> Classification:
    """The pack's classification; with ``reference=None`` the pack is its own reference (cn.base)."""
    raw = raw if isinstance(raw, dict) else {}
    ranges = _ranges(raw.get("codes") or {}, ctx)
    classes: dict[str, EventClass] = {}
    seen_ids: dict = {}
    seen_major_codes: dict = {}
    for c, major in entries(raw.get("classes")):
        path = ("events", "classes", c)
        if not ctx.unique(seen_ids, major["id"], path, "事件分类 id"):
            continue
        compiled = _class(major, None, path, ctx, reference, ranges)
        if compiled is None:
            continue
        ctx.unique(seen_major_codes, compiled.code, (*path, "code"), "大类编码")
        classes[compiled.id] = compiled
        seen_minor_codes: dict = {}
        for s, minor in entries(major.get("subclasses")):
            sub_path = (*path, "subclasses", s)
            if not ctx.unique(seen_ids, minor["id"], sub_path, "事件分类 id"):
                continue
            sub = _class(minor, compiled, sub_path, ctx, reference, ranges)
            if sub is not None and ctx.unique(seen_minor_codes, sub.code, (*sub_path, "code"), "小类编码"):
                classes[sub.id] = sub
    return Classification(frozen_map(classes), ranges["standard"], ranges["local"])


def _ranges(raw: dict, ctx: Context) -> dict[str, tuple[int, int]]:
    ranges = dict(DEFAULT_RANGES)
    for key in ("standard", "local"):
        if isinstance(raw.get(key), str):
            low, high = (int(x) for x in raw[key].split("-"))
            if low > high:
                ctx.problem("CODE_RANGE", ("events", "codes", key), f"编码范围 {raw[key]} 的起点大于终点", "")
            ranges[key] = (low, high)
    standard, local = ranges["standard"], ranges["local"]
    if standard[0] <= local[1] and local[0] <= standard[1]:
        ctx.problem("CODE_RANGE", ("events", "codes"), "标准编码范围与本地扩展范围重叠 (ranges overlap)", "")
    return ranges


def _class(entry: dict, major: EventClass | None, path: tuple, ctx: Context, reference: Reference | None,
           ranges: dict[str, tuple[int, int]]) -> EventClass | None:
    what = f'{"小类" if major else "大类"} "{entry["id"]}"'
    code = ctx.require(entry, "code", path, what)
    name = ctx.require(entry, "name", path, what)
    if code is None or name is None:
        return None
    limits = _time_limits(entry.get("time_limit"), (*path, "time_limit"), ctx)
    if major is not None and not limits:
        limits = dict(major.time_limits)
    elif major is not None and "*" not in limits and "*" in major.time_limits:
        # Zones the subclass does not list fall back to the class-wide limit, never to no deadline.
        limits["*"] = major.time_limits["*"]
    maps_to = entry.get("maps_to", entry["id"])
    if reference is not None:
        _check_mapping(entry["id"], maps_to, major, path, ctx, reference)
    if major is not None:
        _check_code_range(entry["id"], code, path, ctx, reference, ranges)
    return EventClass(entry["id"], code, name, major.id if major else None, maps_to, frozen_map(limits),
                      entry.get("name_en", ""), entry.get("source", "published"))


def _time_limits(raw: Any, path: tuple, ctx: Context) -> dict[str, TimeLimit]:
    if raw is None:
        return {}
    per_zone = raw if isinstance(raw, dict) else {"*": raw}
    limits = {}
    for zone, text in per_zone.items():
        where = path if not isinstance(raw, dict) else (*path, zone)
        try:
            limits[zone] = parse_time_limit(text)
        except TimeLimitError as exc:
            ctx.problem(exc.code, where, exc.message, exc.hint)
    return limits


def _check_mapping(class_id: str, maps_to: str, major: EventClass | None, path: tuple, ctx: Context,
                   reference: Reference) -> None:
    target = reference.classification.classes.get(maps_to)
    kind = "小类" if major else "大类"
    if target is None or (target.parent is None) != (major is None):
        options = [c.id for c in (reference.classification.subclasses() if major else reference.classification.majors)]
        ctx.problem("UNMAPPED_CLASS",
                    (*path, "maps_to"),
                    f'{kind} "{class_id}" 没有对应到参考分类 ({reference.pack}) 中的{kind} "{maps_to}" (unmapped class)',
                    "请用 maps_to: 指向参考分类的" + kind + "。" + did_you_mean(maps_to, options))


def _check_code_range(class_id: str, code: str, path: tuple, ctx: Context, reference: Reference | None,
                      ranges: dict[str, tuple[int, int]]) -> None:
    number = int(code)
    in_standard = ranges["standard"][0] <= number <= ranges["standard"][1]
    in_local = ranges["local"][0] <= number <= ranges["local"][1]
    is_local = reference is not None and class_id not in reference.classification.classes
    if is_local and not in_local:
        low, high = ranges["local"]
        ctx.problem("CODE_RANGE", (*path, "code"),
                    f'本地扩展小类 "{class_id}" 的编码 {code} 不在本地扩展范围 {low:03}–{high:03} 内', "参考分类中没有的小类是本地扩展,须使用本地范围编码")
    elif not (in_standard or in_local):
        ctx.problem("CODE_RANGE", (*path, "code"), f'小类 "{class_id}" 的编码 {code} 不在任何声明的编码范围内', "")


def compile_channels(raw: Any, ctx: Context, reference: Reference | None) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    seen: dict = {}
    for i, entry in entries(raw):
        path = ("channels", i)
        if not ctx.unique(seen, entry["id"], path, "渠道"):
            continue
        name = ctx.require(entry, "name", path, f'渠道 "{entry["id"]}"')
        maps_to = entry.get("maps_to", entry["id"])
        if reference is not None and maps_to not in reference.channels:
            ctx.problem("UNMAPPED_CHANNEL", path,
                        f'渠道 "{entry["id"]}" 没有对应到参考渠道 "{maps_to}" (unmapped channel)', did_you_mean(maps_to, list(reference.channels)))
        channels[entry["id"]] = Channel(entry["id"], name or entry["id"], maps_to, entry.get("name_en", ""),
                                        entry.get("source", "published"))
    return channels
