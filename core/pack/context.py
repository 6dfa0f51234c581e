"""What section compilers share: the merged tree (for positions) and the list of problems."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from .problems import Position, Problem
from .yamlsrc import locate

Path_ = Sequence[Any]


@dataclass
class Context:
    merged: Any
    default: Position
    problems: list[Problem] = field(default_factory=list)

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
