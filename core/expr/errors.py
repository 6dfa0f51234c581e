"""The one error type of the expression language."""
from __future__ import annotations


class ExprError(ValueError):
    """A problem with an expression, with a Chinese message first and the 1-based column it concerns.

    ``column`` counts characters (code points) of ``source``; a column one past the end means
    "at the end of the expression". Pack loaders add file/line themselves.
    """

    def __init__(self, message: str, message_en: str, column: int, source: str = "") -> None:
        self.message = message
        self.message_en = message_en
        self.column = column
        self.source = source
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"第{self.column}列: {self.message} ({self.message_en})"

    def with_source(self, source: str) -> "ExprError":
        return ExprError(self.message, self.message_en, self.column, source)
