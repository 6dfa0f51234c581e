"""What section compilers share: the merged tree (for positions) and the list of problems."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .problems import Position, Problem
from .yamlsrc import locate

Path_ = Sequence[Any]


@dataclass
class Context:
    merged: Any
    default: Position
    problems: list[Problem] = field(default_factory=list)
    #: the expression functions of the plugins the pack enables (``compile_expression(src, ctx.functions)``;
    #: the default functions are always there); None when the pack enables none.
    functions: Any = None
    #: everything those plugins add (``wangge.core.hooks.PackExtensions``), or None.
    extensions: Any = None

    def expression(self, source: str) -> Any:
        """``compile_expression`` with the pack's functions; raises ExprError (see :func:`plugin_hint`)."""
        from ..expr import compile_expression  # noqa: PLC0415  (expr is a sibling package)

        return compile_expression(source, self.functions)

    def plugin_hint(self, exc: Any) -> str:
        """A hint for an expression error that names an unknown function: its plugin may be missing."""
        text = str(exc)
        if "未知的函数" not in text and "unknown function" not in text:
            return ""
        enabled = ", ".join(self.extensions.enabled) if self.extensions is not None and self.extensions.enabled else "无"
        return (";若该函数由插件提供,请确认插件已安装,并在规则包 plugins: 中启用"
                f"(已启用: {enabled}) — the plugin providing it may not be installed or enabled")

    def at(self, path: Path_) -> Position:
        return locate(self.merged, path, self.default)

    def problem(self, code: str, path: Path_, message: str, hint: str = "") -> None:
        self.problems.append(Problem(code, message, self.at(path), hint))

    def require(self, entry: dict, key: str, path: Path_, what: str) -> Any:
        """The value of a field that merging may leave out but compiling needs; a problem if absent."""
        if key not in entry or entry[key] in (None, ""):
            self.problem("SCHEMA", path, f'{what} 缺少必填字段 "{key}" (missing required field)', f"请添加 {key}:")
            return None
        return entry[key]

    def unique(self, seen: dict[Any, Path_], key: Any, path: Path_, what: str) -> bool:
        """Record ``key``; a DUPLICATE_ID problem (pointing at the first use) if it was already seen."""
        if key in seen:
            self.problem("DUPLICATE_ID", path, f'重复的{what} "{key}" (duplicate)', f"第一次出现在 {self.at(seen[key])}")
            return False
        seen[key] = path
        return True


def entries(value: Any) -> list[tuple[int, dict]]:
    """The mapping items of a list with their indexes (schema problems already cover anything else)."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def did_you_mean(name: str, options: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(options), n=1)
    listing = ", ".join(list(options)[:12]) + (" …" if len(options) > 12 else "")
    return (f'是不是 "{close[0]}"?' if close else "") + (f" 可用: {listing}" if options else " (尚未声明任何条目)")
