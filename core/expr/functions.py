"""The fixed function set and the way callers add functions of their own."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from . import values as V
from .errors import ExprError
from .nodes import Literal, Node

_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_JS_CALLEE = re.compile(r"[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*")


@dataclass(frozen=True)
class Clock:
    """What today() and now() answer during one evaluation."""
    today: date
    now: datetime


@dataclass(frozen=True)
class Function:
    """A function expressions may call.

    ``impl`` receives the evaluated arguments (and, when ``clock`` is true, a :class:`Clock` first).
    ``js`` is a JavaScript function expression, e.g. ``"function (x) { return x * 2; }"`` (it may use
    the runtime ``W``), or a dotted name such as ``"W.len"``; without it the function cannot be
    compiled to JavaScript. ``check`` runs at compile time on the argument nodes and raises
    :class:`ExprError` for arguments that can never work.
    """
    name: str
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: any number
    js: str | None = None
    returns_bool: bool = False
    clock: bool = False
    check: Callable[[tuple[Node, ...], str], None] | None = field(default=None, compare=False)
    summary: str = ""
    summary_en: str = ""

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name) or self.name in ("and", "or", "not", "in", "true", "false", "null"):
            raise ValueError(f"invalid function name {self.name!r}: use lower-case letters, digits and _")
        if self.min_args < 0 or (self.max_args is not None and self.max_args < self.min_args):
            raise ValueError(f"function {self.name}: invalid arity {self.min_args}..{self.max_args}")

    @property
    def js_callee(self) -> str | None:
        if self.js is None:
            return None
        return self.js if _JS_CALLEE.fullmatch(self.js) else f"({self.js})"


class FunctionSet(Mapping[str, Function]):
    """An immutable name → :class:`Function` mapping."""

    __slots__ = ("_by_name",)

    def __init__(self, functions: Iterable[Function] = ()) -> None:
        by_name: dict[str, Function] = {}
        for fn in functions:
            if fn.name in by_name and by_name[fn.name] is not fn:
                raise ValueError(f"function {fn.name!r} defined twice")
            by_name[fn.name] = fn
        self._by_name = MappingProxyType(by_name)

    def __getitem__(self, name: str) -> Function:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def __repr__(self) -> str:
        return f"FunctionSet({', '.join(self._by_name)})"

    def extended(self, other: Iterable[Function] | "FunctionSet") -> "FunctionSet":
        """This set plus ``other``; redefining a name with a different function is a ValueError."""
        extra = other.values() if isinstance(other, FunctionSet) else other
        return FunctionSet([*self._by_name.values(), *extra])

    def arities(self) -> dict[str, tuple[int, int | None]]:
        return {name: (fn.min_args, fn.max_args) for name, fn in self._by_name.items()}


# -- compile-time checks -----------------------------------------------------------------------
def check_regex(args: tuple[Node, ...], source: str) -> None:
    from .regex import RegexSubsetError, translate

    pattern = args[1]
    if not (isinstance(pattern, Literal) and isinstance(pattern.value, str)):
        raise ExprError("regex 的第二个参数(正则表达式)必须是用引号写出的文字",
                        "the pattern of regex() must be a quoted string", pattern.column, source)
    try:
        translate(pattern.value)
    except RegexSubsetError as exc:
        raise ExprError(f"正则表达式第 {exc.offset + 1} 个字符处: {exc.message}",
                        f"in the pattern at character {exc.offset + 1}: {exc.message_en}",
                        pattern.column, source) from None


def check_date_literal(args: tuple[Node, ...], source: str) -> None:
    arg = args[0]
    if isinstance(arg, Literal) and V.parse_date(arg.value) is None:
        raise ExprError("日期要写成 'YYYY-MM-DD' 且是真实的日期,例如 '2024-01-01'",
                        "a date is written 'YYYY-MM-DD' and must exist, e.g. '2024-01-01'", arg.column, source)


def _check_places(args: tuple[Node, ...], source: str) -> None:
    places = args[1].value if len(args) == 2 and isinstance(args[1], Literal) else 0
    if not (places.__class__ is int or (places.__class__ is float and places.is_integer())):
        raise ExprError("round 的第二个参数(小数位数)必须是整数", "round() places must be an integer",
                        args[1].column, source)


def check_text_literal(position: int, what: str, what_en: str) -> Callable[[tuple[Node, ...], str], None]:
    def check(args: tuple[Node, ...], source: str) -> None:
        arg = args[position]
        if isinstance(arg, Literal) and arg.value.__class__ is not str:
            raise ExprError(f"{what}必须是文字", f"{what_en} must be a string", arg.column, source)
    return check


# -- implementations -----------------------------------------------------------------------------
def _today(clock: Clock) -> str:
    return clock.today.isoformat()


def _now(clock: Clock) -> str:
    return clock.now.replace(tzinfo=None, microsecond=0).isoformat()


def _date(x: Any) -> str | None:
    d = V.parse_date(x)
    return d.isoformat() if d else None


def _days_between(a: Any, b: Any) -> int | None:
    da, db = V.parse_date(a), V.parse_date(b)
    return None if da is None or db is None else db.toordinal() - da.toordinal()


def _age(clock: Clock, birth: Any) -> int | None:
    b = V.parse_date(birth)
    if b is None:
        return None
    t = clock.today
    return t.year - b.year - ((t.month, t.day) < (b.month, b.day))


def _len(x: Any) -> int | None:
    if x is None:
        return 0
    if x.__class__ is str or x.__class__ in V.SEQUENCE_TYPES or isinstance(x, Mapping):
        return len(x)
    return None


def _contains(s: Any, sub: Any) -> bool:
    return s.__class__ is str and sub.__class__ is str and sub in s


def _starts_with(s: Any, prefix: Any) -> bool:
    return s.__class__ is str and prefix.__class__ is str and s.startswith(prefix)


def _ends_with(s: Any, suffix: Any) -> bool:
    return s.__class__ is str and suffix.__class__ is str and s.endswith(suffix)


def _count(x: Any) -> int | None:
    if x is None:
        return 0
    return len(x) if x.__class__ in V.SEQUENCE_TYPES else None


def _sum(x: Any) -> int | float | None:
    if x is None:
        return 0
    if x.__class__ not in V.SEQUENCE_TYPES:
        return None
    total: Any = 0
    for item in x:  # left to right, rounding at each step exactly as JavaScript does
        if item is None:
            continue
        total = V.add(total, item)
        if total is None:
            return None
    return total


def _pluck(items: Any, key: Any) -> list[Any] | None:
    if items is None:
        return []
    if items.__class__ not in V.SEQUENCE_TYPES or key.__class__ is not str:
        return None
    return [V.normalise(item.get(key)) if isinstance(item, Mapping) else None for item in items]


def _choices(x: Any) -> list[Any] | None:
    """A multiple-choice answer as a list (XLSForm stores it as space-separated text)."""
    if x.__class__ in V.SEQUENCE_TYPES:
        return x
    if x.__class__ is str:
        return [part for part in x.split(" ") if part]
    return None


def _count_selected(x: Any) -> int | None:
    if x is None:
        return 0
    chosen = _choices(x)
    return None if chosen is None else len(chosen)


def _selected(x: Any, value: Any) -> bool:
    chosen = _choices(x)
    return chosen is not None and V.member(value, chosen)


def _coalesce(*args: Any) -> Any:
    for a in args:
        if a is not None and a != "":
            return a
    return None


def _number(x: Any) -> int | float | None:
    if x.__class__ in V.NUMBER_TYPES:
        return x
    if x.__class__ is str:
        return V.parse_number(x)
    return None


def _int(x: Any) -> int | float | None:
    n = _number(x)
    return None if n is None else V.number_result(int(n))


def _round(x: Any, places: Any = 0) -> int | float | None:
    if x.__class__ not in V.NUMBER_TYPES:
        return None
    if places.__class__ is float and places.is_integer():
        places = int(places)
    if places.__class__ is not int:
        return None
    return V.round_half_away(x, places)


def _extreme(pick: Callable[[list[Any]], Any]) -> Callable[..., Any]:
    def impl(*args: Any) -> Any:
        items = args[0] if len(args) == 1 and args[0].__class__ in V.SEQUENCE_TYPES else args
        present = [a for a in items if a is not None]
        if not present:
            return None
        if all(a.__class__ in V.NUMBER_TYPES for a in present) or all(a.__class__ is str for a in present):
            return pick(present)
        return None
    return impl


def _abs(x: Any) -> int | float | None:
    return abs(x) if x.__class__ in V.NUMBER_TYPES else None


_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _lower(x: Any) -> str | None:
    return x.translate(_LOWER) if x.__class__ is str else None


def _upper(x: Any) -> str | None:
    return x.translate(_UPPER) if x.__class__ is str else None


def _concat(*args: Any) -> str:
    return "".join(V.to_text(a) for a in args)


def _special_form(*_args: Any) -> Any:  # pragma: no cover - compiled specially, never called
    raise AssertionError("special form")


def _f(name: str, impl: Callable[..., Any], low: int, high: int | None, zh: str, en: str, *,
       returns_bool: bool = False, clock: bool = False,
       check: Callable[[tuple[Node, ...], str], None] | None = None, js: str | None = None) -> Function:
    return Function(name, impl, low, high, js=js or f"W.{name}", returns_bool=returns_bool, clock=clock,
                    check=check, summary=zh, summary_en=en)


DEFAULT_FUNCTIONS = FunctionSet([
    _f("today", _today, 0, 0, "今天的日期 'YYYY-MM-DD'", "today's date 'YYYY-MM-DD'", clock=True),
    _f("now", _now, 0, 0, "现在的日期时间 'YYYY-MM-DDTHH:MM:SS'", "the current date-time", clock=True),
    _f("date", _date, 1, 1, "检查并取出日期 'YYYY-MM-DD';不是有效日期时为空", "the date 'YYYY-MM-DD', or null",
       check=check_date_literal),
    _f("days_between", _days_between, 2, 2, "从第一个日期到第二个日期相隔的天数", "days from the first date to the second"),
    _f("age", _age, 1, 1, "按出生日期算到今天的周岁", "full years since a birth date", clock=True),
    _f("len", _len, 1, 1, "文字的字数,或列表的项数", "characters of a text, items of a list"),
    _f("string_length", _len, 1, 1, "同 len", "same as len", js="W.len"),
    _f("regex", _special_form, 2, 2, "文字是否完全符合正则表达式", "whether the whole text matches the pattern",
       returns_bool=True, check=check_regex),
    _f("contains", _contains, 2, 2, "文字是否包含另一段文字", "whether a text contains another", returns_bool=True),
    _f("starts_with", _starts_with, 2, 2, "文字是否以…开头", "whether a text starts with another",
       returns_bool=True),
    _f("ends_with", _ends_with, 2, 2, "文字是否以…结尾", "whether a text ends with another", returns_bool=True),
    _f("count", _count, 1, 1, "重复组(列表)的条数", "number of entries of a repeat (list)"),
    _f("sum", _sum, 1, 1, "数字列表之和(空值跳过)", "sum of a list of numbers (nulls skipped)"),
    _f("pluck", _pluck, 2, 2, "从重复组的每一条中取出某个字段,得到列表", "one field of every entry of a repeat",
       check=check_text_literal(1, "pluck 的第二个参数(字段名)", "the field name of pluck()")),
    _f("count_selected", _count_selected, 1, 1, "多选题选了几项", "number of options chosen"),
    _f("selected", _selected, 2, 2, "多选题是否选了某一项", "whether an option is chosen", returns_bool=True),
    _f("if", _special_form, 3, 3, "条件成立取第二个值,否则取第三个", "second value if the condition holds, else third"),
    _f("coalesce", _coalesce, 1, None, "第一个不为空(也不是空文字)的值", "the first value that is not null or ''"),
    _f("int", _int, 1, 1, "取整数部分(向零取整)", "integer part (towards zero)"),
    _f("number", _number, 1, 1, "把文字转换为数字;无法转换时为空", "text to number, or null"),
    _f("round", _round, 1, 2, "四舍五入到 n 位小数(默认 0 位)", "round half away from zero to n places",
       check=_check_places),
    _f("min", _extreme(min), 1, None, "最小值(数字或文字;空值跳过)", "smallest value (nulls skipped)"),
    _f("max", _extreme(max), 1, None, "最大值(数字或文字;空值跳过)", "largest value (nulls skipped)"),
    _f("abs", _abs, 1, 1, "绝对值", "absolute value"),
    _f("lower", _lower, 1, 1, "英文字母变小写(如身份证号末位 X)", "A–Z to lower case"),
    _f("upper", _upper, 1, 1, "英文字母变大写(如身份证号末位 x)", "a–z to upper case"),
    _f("concat", _concat, 1, None, "把各项连成一段文字(空值为空文字)", "join values into one text"),
])
