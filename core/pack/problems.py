"""Problems found in a pack, and the one error type the loader raises."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple


class Position(NamedTuple):
    """Where a value was written: file, 1-based line and column. A tuple because the loader makes one
    for every key and item of a pack (tens of thousands) and orders problems by it."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file


@dataclass(frozen=True)
class Problem:
    """One mistake in a pack, in the form county staff read: place, code, 中文说明, hint."""

    code: str
    message: str
    position: Position
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.position}: {self.code} {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text


class PackError(Exception):
    """Raised when a pack cannot be loaded; carries every problem found, sorted by place."""

    def __init__(self, problems: list[Problem]):
        # A base's problem can be met twice (once as reference, once merged); report it once.
        self.problems = tuple(sorted(set(problems), key=lambda p: (p.position, p.code, p.message)))
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


def display_path(path: Path) -> str:
    """A path relative to the working directory when possible, so messages stay short."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
