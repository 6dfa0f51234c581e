"""``plugins:`` — the plugins a pack switches on, by entry-point name, with their settings.

Only the shape is checked here. Whether a plugin is installed is deliberately *not* a load error: a pack
is often checked (by a vendor, in CI) on a machine without the county's own plugins. ``wangge plugins
check PACK`` reports plugins that are not installed and asks each installed one to check its settings.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..context import Context, entries


@dataclass(frozen=True)
class PluginEntry:
    id: str                                  # the entry-point name in group "wangge"
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    enabled: bool = True                     # a county may switch off a plugin its base pack enables
    description: str = ""


def compile_plugins(raw: Any, ctx: Context) -> dict[str, PluginEntry]:
    plugins: dict[str, PluginEntry] = {}
    seen: dict = {}
    for i, entry in entries(raw):
        path = ("plugins", i)
        if not isinstance(entry.get("id"), str) or not ctx.unique(seen, entry["id"], path, "插件"):
            continue
        plugins[entry["id"]] = PluginEntry(
            id=entry["id"], settings=_frozen(entry.get("settings") or {}),
            enabled=entry.get("enabled", True) is not False, description=str(entry.get("description", "")))
    return plugins


def _frozen(value: Any) -> Any:
    """Plain, read-only copies of the YAML tree (dates stay dates; settings are read by plugins)."""
    if isinstance(value, dict):
        return MappingProxyType({str(k): _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value
