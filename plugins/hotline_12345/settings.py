"""The 12345 adapter's settings in a pack (``plugins: [{id: hotline_12345, settings: {...}}]``), checked.

Everything has a default that works with any pack extending ``cn.base``: classes are found by 分类 name
then by 受理类型 through reference classes, units by the pack's own unit names in 地址.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .order import REQUEST_TYPES

NAME = "hotline_12345"
EXTERNAL_PREFIX = "12345:"  # cases.external_id = "12345:<工单编号>", so other platforms' ids never collide
REPLY_KIND = "hotline_reply"

# Reference classes (cn.base) a 受理类型 falls back to when no rule and no 分类 name matches.
DEFAULT_TYPE_CLASSES: Mapping[str, str] = MappingProxyType({
    "咨询": "zcxc_zixun", "建议": "zcxc_jianyi", "求助": "gafw_qita", "投诉": "qita_qita", "举报": "qita_qita"})


@dataclass(frozen=True)
class ClassRule:
    """``type`` (受理类型) and/or ``category`` (a 分类 prefix: "城市管理/市容环境") → a pack class."""

    target: str                  # a class of the pack (class:) or a reference class (ref_class:)
    is_ref: bool = False
    request_type: str = ""
    category: tuple[str, ...] = ()

    def matches(self, request_type: str, categories: tuple[str, ...]) -> bool:
        if self.request_type and self.request_type != request_type:
            return False
        return categories[:len(self.category)] == self.category


@dataclass(frozen=True)
class HotlineSettings:
    platform_url: str = ""                         # where 回单/回访 go (the platform's receiving URL)
    secret_env: str = ""                           # the signing secret, from this environment variable …
    secret: str = ""                               # … or given directly (not recommended in a pack)
    channel: str = ""                              # the pack's channel; default: the one mapping to hotline_12345
    default_unit: str = ""
    units: tuple[tuple[str, str], ...] = ()        # (keyword in 地址/承办单位, unit code), longest keyword first
    classes: tuple[ClassRule, ...] = ()
    type_classes: Mapping[str, str] = field(default_factory=lambda: DEFAULT_TYPE_CLASSES)  # 受理类型 → ref class
    reply_on: tuple[str, ...] = ()                 # states that send 回单; default: the workflow's closed states
    visit_actions: tuple[str, ...] = ("visit", "return_visit", "huifang")
    return_actions: tuple[str, ...] = ("return_to_hotline", "huitui")
    extend_actions: tuple[str, ...] = ()           # default: workflow transitions of kind "extend"
    timeout: float = 10.0


class SettingsProblem(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(";".join(problems))


def parse_settings(raw: Mapping[str, Any] | None, pack: Any = None) -> HotlineSettings:
    """Settings from the pack; :class:`SettingsProblem` lists every mistake (checked against ``pack``)."""
    problems = settings_problems(raw or {}, pack)
    if problems:
        raise SettingsProblem(problems)
    return _build(raw or {})


def _build(raw: Mapping[str, Any]) -> HotlineSettings:
    units = raw.get("units") or {}
    pairs = units.items() if isinstance(units, Mapping) else ((u.get("keyword"), u.get("unit")) for u in units)
    rules = []
    for rule in raw.get("classes") or ():
        category = rule.get("category") or ()
        if isinstance(category, str):
            category = tuple(p.strip() for p in category.split("/") if p.strip())
        target, is_ref = (rule["class"], False) if rule.get("class") else (rule.get("ref_class", ""), True)
        rules.append(ClassRule(str(target), is_ref, str(rule.get("type", "")), tuple(category)))
    # The most specific rule wins: longer category first, a typed rule before an untyped one, then order.
    rules.sort(key=lambda r: (-len(r.category), not r.request_type))
    types = dict(DEFAULT_TYPE_CLASSES)
    types.update({str(k): str(v) for k, v in (raw.get("types") or {}).items()})
    return HotlineSettings(
        platform_url=str(raw.get("platform_url", "")), secret_env=str(raw.get("secret_env", "")),
        secret=str(raw.get("secret", "")), channel=str(raw.get("channel", "")),
        default_unit=str(raw.get("default_unit", "")),
        units=tuple(sorted(((str(k), str(v)) for k, v in pairs), key=lambda kv: -len(kv[0]))),
        classes=tuple(rules), type_classes=MappingProxyType(types),
        reply_on=tuple(raw.get("reply_on") or ()),
        visit_actions=tuple(raw.get("visit_actions") or HotlineSettings.visit_actions),
        return_actions=tuple(raw.get("return_actions") or HotlineSettings.return_actions),
        extend_actions=tuple(raw.get("extend_actions") or ()), timeout=float(raw.get("timeout", 10)))


def settings_problems(raw: Mapping[str, Any], pack: Any = None) -> list[str]:
    """Every mistake in the settings, in Chinese; checked against the pack's classes and units if given."""
    p: list[str] = []
    known = {"platform_url", "secret_env", "secret", "channel", "default_unit", "units", "classes", "types",
             "reply_on", "visit_actions", "return_actions", "extend_actions", "timeout"}
    for key in sorted(set(raw) - known):
        p.append(f"未知设置「{key}」,可用: {', '.join(sorted(known))}")
    url = raw.get("platform_url")
    if url and not str(url).startswith(("http://", "https://")):
        p.append(f"platform_url「{url}」必须以 http:// 或 https:// 开头")
    if url and not (raw.get("secret_env") or raw.get("secret")):
        p.append("设置了 platform_url 但没有签名密钥:请设置 secret_env(推荐)或 secret")
    units = raw.get("units") or {}
    if isinstance(units, Mapping):
        pairs = list(units.items())
    elif isinstance(units, (list, tuple)) and all(isinstance(u, Mapping) and u.get("keyword") and u.get("unit")
                                                  for u in units):
        pairs = [(u["keyword"], u["unit"]) for u in units]
    else:
        p.append("units 应为 {地址关键词: 网格单元编码} 或 [{keyword, unit}] 列表")
        pairs = []
    for n, rule in enumerate(raw.get("classes") or ()):
        if not isinstance(rule, Mapping) or not (rule.get("class") or rule.get("ref_class")):
            p.append(f"classes 第 {n + 1} 条须写 class(本包分类)或 ref_class(参考分类)")
            continue
        if rule.get("type") and rule["type"] not in REQUEST_TYPES:
            p.append(f"classes 第 {n + 1} 条的 type「{rule['type']}」应为 {'/'.join(REQUEST_TYPES)} 之一")
        if pack is not None and rule.get("class") and rule["class"] not in pack.events.classes:
            p.append(f"classes 第 {n + 1} 条的分类「{rule['class']}」不存在于规则包 {pack.id}")
        if pack is not None and rule.get("ref_class") and not _local(pack, rule["ref_class"]):
            p.append(f"classes 第 {n + 1} 条的参考分类「{rule['ref_class']}」在规则包 {pack.id} 中没有对应分类")
    for key, value in (raw.get("types") or {}).items():
        if key not in REQUEST_TYPES:
            p.append(f"types 的键「{key}」应为 {'/'.join(REQUEST_TYPES)} 之一")
        elif pack is not None and not _local(pack, str(value)):
            p.append(f"types.{key} 的参考分类「{value}」在规则包 {pack.id} 中没有对应分类")
    if pack is not None:
        for keyword, code in pairs:
            if str(code) not in pack.grid.units:
                p.append(f"units「{keyword}」指向的网格单元「{code}」不存在于规则包 {pack.id}")
        if raw.get("default_unit") and str(raw["default_unit"]) not in pack.grid.units:
            p.append(f"default_unit「{raw['default_unit']}」不存在于规则包 {pack.id}")
        if raw.get("channel") and raw["channel"] not in pack.channels:
            p.append(f"channel「{raw['channel']}」不存在于规则包 {pack.id}")
        if not raw.get("channel") and not any(c.maps_to == "hotline_12345" for c in pack.channels.values()):
            p.append(f"规则包 {pack.id} 没有对应 12345 (hotline_12345) 的渠道;请设置 channel")
    return p


def _local(pack: Any, ref: str) -> str | None:
    from wangge.core.events import local_class

    return local_class(pack, ref)
