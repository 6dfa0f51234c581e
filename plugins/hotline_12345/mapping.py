"""Pure mapping of a 12345 work order onto a pack's event: class, grid unit, channel, urgency.

No I/O and no clock: the same order, pack and settings always give the same event, so the mapping can be
dry-run and compared across packs.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wangge.core.events import local_class

from .order import OrderError, WorkOrder, parse_order
from .settings import EXTERNAL_PREFIX, HotlineSettings, parse_settings


def external_id(order_no: str) -> str:
    return EXTERNAL_PREFIX + order_no


def order_to_event(order: WorkOrder | Mapping[str, Any], pack: Any,
                   settings: HotlineSettings | Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The event dict (for :func:`wangge.core.events.parse_event`) for one work order; OrderError if unmappable."""
    if not isinstance(order, WorkOrder):
        order = parse_order(order)
    if not isinstance(settings, HotlineSettings):
        settings = parse_settings(settings, pack)
    errors: dict[str, str] = {}
    event_class = map_class(order, pack, settings)
    if event_class is None:
        errors["分类"] = (f"无法把受理类型「{order.request_type}」/分类「{'/'.join(order.categories)}」对应到规则包 "
                        f"{pack.id} 的事件分类;请在插件设置 classes 中补充映射")
    unit = map_unit(order, pack, settings)
    if unit is None:
        errors["地址"] = (f"无法根据地址「{order.address}」或承办单位「{order.handling_unit}」确定网格单元;"
                        "请在插件设置 units 中补充关键词,或设置 default_unit")
    channel = settings.channel or next((c.id for c in pack.channels.values() if c.maps_to == "hotline_12345"), "")
    if not channel:
        errors["信息来源"] = f"规则包 {pack.id} 没有 12345 渠道;请在插件设置 channel 中指定"
    if errors:
        raise OrderError(errors)
    title = order.description.splitlines()[0][:40] if order.description else order.request_type
    event: dict[str, Any] = {
        "id": f"12345-{order.order_no}", "class": event_class, "channel": channel, "unit": unit,
        "reported_at": order.received_at.isoformat(), "urgency": order.urgency,
        "title": f"[12345·{order.request_type}] {title}", "description": order.description,
        "reporter_role": "citizen", "external_id": external_id(order.order_no),
        # The whole order is kept (under its Chinese keys) so 承办单位 sees what the platform sent, except the
        # caller's identity when the order is 保密.
        "data": {"hotline": order.as_record(with_contact=not order.confidential),
                 "request_type": order.request_type, "confidential": order.confidential},
    }
    if order.contact_name and not order.confidential:
        event["reporter"] = order.contact_name
    return event


def map_class(order: WorkOrder, pack: Any, settings: HotlineSettings) -> str | None:
    """The pack's class: a settings rule; else a class named like the deepest 分类; else by 受理类型."""
    classes = pack.events.classes
    for rule in settings.classes:
        if rule.matches(order.request_type, order.categories):
            found = local_class(pack, rule.target) if rule.is_ref else rule.target
            if found in classes:
                return found
    by_name = {c.name: c.id for c in classes.values()}
    ref_by_name = {c.name: c.id for c in pack.reference.classification.classes.values()}
    for name in reversed(order.categories):
        if name in by_name:
            return by_name[name]
        if name in ref_by_name and local_class(pack, ref_by_name[name]):
            return local_class(pack, ref_by_name[name])
    ref = settings.type_classes.get(order.request_type)
    return (local_class(pack, ref) if ref else None) or local_class(pack, "qita_qita")


def map_unit(order: WorkOrder, pack: Any, settings: HotlineSettings) -> str | None:
    """The grid unit: a settings keyword in 地址 then 承办单位; else the deepest unit named in 地址; else default."""
    for text in (order.address, order.handling_unit):
        for keyword, code in settings.units:
            if text and keyword in text and code in pack.grid.units:
                return code
    if order.address:
        depth = {lv.id: n for n, lv in enumerate(pack.grid.levels)}
        named = [u for u in pack.grid.units.values() if u.name and u.name in order.address]
        if named:
            # The deepest level, then the longest name: "彭李街道第3社区" beats "彭李街道".
            return max(named, key=lambda u: (depth.get(u.level, 0), len(u.name))).code
    if settings.default_unit in pack.grid.units:
        return settings.default_unit
    roots = pack.grid.roots
    return roots[0] if len(roots) == 1 and not settings.default_unit else None
