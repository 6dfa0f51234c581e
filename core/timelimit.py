"""处置时限 · Time limits such as ``5工作日`` or ``30 minutes``.

A time limit is a positive number and a unit. Parsing is strict on purpose: a time limit decides whether a
case is overdue and therefore how a grid worker is scored, so an ambiguous text (``3天`` — natural or
working days?) is an error that names the choices rather than a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType

__all__ = ["TimeUnit", "TimeLimit", "TimeLimitError", "parse_time_limit"]


class TimeUnit(StrEnum):
    """时限单位. The value is the English name used in packs and APIs."""

    MINUTES = "minutes"
    HOURS = "hours"
    WORK_HOURS = "work_hours"
    WORKDAYS = "workdays"
    DAYS = "days"

    @property
    def zh(self) -> str:
        """Chinese name: 分钟, 小时, 工作时, 工作日, 自然日."""
        return _ZH[self]

    @property
    def is_working(self) -> bool:
        """True for units counted on the working-day calendar (工作时, 工作日)."""
        return self in (TimeUnit.WORK_HOURS, TimeUnit.WORKDAYS)

    @property
    def allows_fraction(self) -> bool:
        """Hours may be fractional (``1.5小时``); a fraction of a minute, day or working day is not meaningful
        (half a working day depends on the work hours — write ``3.5工作时`` instead)."""
        return self in (TimeUnit.HOURS, TimeUnit.WORK_HOURS)


# Read-only tables (MappingProxyType) so no module-level state can be changed at run time.
_ZH: Mapping[TimeUnit, str] = MappingProxyType({
    TimeUnit.MINUTES: "分钟",
    TimeUnit.HOURS: "小时",
    TimeUnit.WORK_HOURS: "工作时",
    TimeUnit.WORKDAYS: "工作日",
    TimeUnit.DAYS: "自然日",
})

# Spellings accepted after normalisation (NFKC, lower case, spaces/hyphens -> "_"). Bare 天/日/d/h are left
# out deliberately: in Chinese documents "3天" is used for both natural and working days.
_ALIASES: Mapping[str, TimeUnit] = MappingProxyType({
    "分钟": TimeUnit.MINUTES,
    "minutes": TimeUnit.MINUTES,
    "minute": TimeUnit.MINUTES,
    "min": TimeUnit.MINUTES,
    "mins": TimeUnit.MINUTES,
    "小时": TimeUnit.HOURS,
    "hours": TimeUnit.HOURS,
    "hour": TimeUnit.HOURS,
    "工作时": TimeUnit.WORK_HOURS,
    "工作小时": TimeUnit.WORK_HOURS,
    "work_hours": TimeUnit.WORK_HOURS,
    "work_hour": TimeUnit.WORK_HOURS,
    "working_hours": TimeUnit.WORK_HOURS,
    "working_hour": TimeUnit.WORK_HOURS,
    "workhours": TimeUnit.WORK_HOURS,
    "workhour": TimeUnit.WORK_HOURS,
    "工作日": TimeUnit.WORKDAYS,
    "workdays": TimeUnit.WORKDAYS,
    "workday": TimeUnit.WORKDAYS,
    "work_days": TimeUnit.WORKDAYS,
    "work_day": TimeUnit.WORKDAYS,
    "working_days": TimeUnit.WORKDAYS,
    "working_day": TimeUnit.WORKDAYS,
    "自然日": TimeUnit.DAYS,
    "days": TimeUnit.DAYS,
    "day": TimeUnit.DAYS,
    "natural_days": TimeUnit.DAYS,
    "natural_day": TimeUnit.DAYS,
    "calendar_days": TimeUnit.DAYS,
    "calendar_day": TimeUnit.DAYS,
})

# Spellings that mean two different units, mapped to the pair the author must choose from.
_AMBIGUOUS: Mapping[str, tuple[TimeUnit, TimeUnit]] = MappingProxyType({
    "天": (TimeUnit.WORKDAYS, TimeUnit.DAYS),
    "日": (TimeUnit.WORKDAYS, TimeUnit.DAYS),
    "d": (TimeUnit.WORKDAYS, TimeUnit.DAYS),
    "h": (TimeUnit.WORK_HOURS, TimeUnit.HOURS),
})

_VALID_UNITS = "、".join(f"{u.zh} ({u.value})" for u in TimeUnit)

# A limit longer than about ten years is certainly a typo (e.g. 3000工作日 for 30工作日) and would make
# deadline computation walk far beyond the known calendar years.
_MAX_DAYS_EQUIVALENT = 3660
_MINUTES_PER_UNIT: Mapping[TimeUnit, int] = MappingProxyType({
    TimeUnit.MINUTES: 1,
    TimeUnit.HOURS: 60,
    TimeUnit.WORK_HOURS: 60,
    TimeUnit.WORKDAYS: 24 * 60,
    TimeUnit.DAYS: 24 * 60,
})

_PATTERN = re.compile(r"^(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+))?\s*(?:个\s*)?(?P<unit>.*?)$")


class TimeLimitError(ValueError):
    """A time limit that cannot be used. ``code`` is ``UNKNOWN_TIME_UNIT`` or ``BAD_TIME_LIMIT``."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.code} {self.message}" + (f"\n    hint: {self.hint}" if self.hint else "")


@dataclass(frozen=True)
class TimeLimit:
    """A positive amount of time in one unit, e.g. ``TimeLimit(5, TimeUnit.WORKDAYS)`` (``5工作日``).

    ``value`` is an ``int`` whenever it is whole, so ``TimeLimit(5.0, ...) == TimeLimit(5, ...)`` and prints
    as ``5工作日``. Fractions are allowed for hours and working hours only, and must be whole minutes.
    """

    value: int | float
    unit: TimeUnit

    def __post_init__(self) -> None:
        unit = self.unit
        if not isinstance(unit, TimeUnit):
            try:
                unit = TimeUnit(unit)
            except ValueError:
                raise _unknown_unit(str(unit)) from None
            object.__setattr__(self, "unit", unit)
        value = self.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TimeLimitError("BAD_TIME_LIMIT", f"时限数值必须是数字,而不是 {value!r}",
                                 "例如 5工作日、2小时 (e.g. 5 workdays, 2 hours)")
        if value != value or value in (float("inf"), float("-inf")):
            raise TimeLimitError("BAD_TIME_LIMIT", f"时限数值无效: {value!r}", "例如 5工作日")
        if value <= 0:
            raise TimeLimitError("BAD_TIME_LIMIT", f"时限必须大于零,而不是 {_fmt(value)}{unit.zh}",
                                 "time limits must be positive")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
            object.__setattr__(self, "value", value)
        if isinstance(value, float):
            if not unit.allows_fraction:
                raise TimeLimitError(
                    "BAD_TIME_LIMIT", f"{unit.zh}时限必须是整数,而不是 {_fmt(value)}",
                    "不足一天的时限请用工作时或小时,例如 3.5工作时 (use work_hours/hours for fractions)")
            minutes = value * 60
            if abs(minutes - round(minutes)) > 1e-6:
                raise TimeLimitError(
                    "BAD_TIME_LIMIT", f"时限 {_fmt(value)}{unit.zh} 不是整分钟",
                    "小数时限须为整分钟,例如 0.5小时、1.25工作时 (fractions must be whole minutes)")
        if value * _MINUTES_PER_UNIT[unit] > _MAX_DAYS_EQUIVALENT * 24 * 60:
            raise TimeLimitError("BAD_TIME_LIMIT", f"时限 {_fmt(value)}{unit.zh} 过长(超过约十年),可能是笔误",
                                 "time limit longer than ten years")

    @property
    def minutes(self) -> int:
        """The value in whole minutes of its own kind of time (working minutes for ``work_hours``).

        Not defined for ``workdays``/``days``, whose length depends on the calendar or the convention."""
        if self.unit in (TimeUnit.WORKDAYS, TimeUnit.DAYS):
            raise ValueError(f"{self} has no fixed length in minutes")
        return round(self.value * _MINUTES_PER_UNIT[self.unit])

    def __str__(self) -> str:
        return f"{_fmt(self.value)}{self.unit.zh}"


def _fmt(value: int | float) -> str:
    # repr gives the shortest text that round-trips, so 0.5 prints as "0.5", never "0.50000".
    return str(value) if isinstance(value, int) else repr(value)


def _unknown_unit(unit: str) -> TimeLimitError:
    return TimeLimitError("UNKNOWN_TIME_UNIT", f"未知的时限单位 \"{unit}\";可用的单位: {_VALID_UNITS}",
                          f"valid units: {', '.join(u.value for u in TimeUnit)}")


def parse_time_limit(text: str | int | float | TimeLimit) -> TimeLimit:
    """Parse ``5工作日``, ``5 工作日``, ``5个工作日``, ``5 workdays``, ``1.5小时``, ``30 minutes`` ...

    Full-width digits and spaces are accepted (NFKC). A bare number (YAML ``time_limit: 5``) has no unit
    and is an ``UNKNOWN_TIME_UNIT`` error that lists the units.
    """
    if isinstance(text, TimeLimit):
        return text
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise TimeLimitError("BAD_TIME_LIMIT", f"时限必须写成「数字+单位」,而不是 {text!r}", "例如 5工作日")
    if not isinstance(text, str):
        raise TimeLimitError("UNKNOWN_TIME_UNIT", f"时限 {text} 缺少单位;可用的单位: {_VALID_UNITS}",
                             f"例如 {text}工作日 或 {text}自然日 (a unit is required)")
    source = text
    normalised = unicodedata.normalize("NFKC", text).strip()
    match = _PATTERN.match(normalised)
    assert match is not None  # the pattern matches any string; both groups are optional
    number, unit_text = match.group("num"), match.group("unit").strip()
    if number is not None and (len(number.split(".")[0]) > 12 or len(number) > 40):
        # Longer than any real limit; also keeps int() and str() away from 4,300-digit numbers.
        raise TimeLimitError("BAD_TIME_LIMIT", f"时限数值 \"{number[:20]}…\" 过长,可能是笔误", "例如 5工作日")
    if number is None:
        raise TimeLimitError("BAD_TIME_LIMIT", f"时限 \"{source}\" 缺少数值,应写成「数字+单位」",
                             "例如 5工作日、30分钟,使用阿拉伯数字 (e.g. 5 workdays)")
    if not unit_text:
        raise TimeLimitError("UNKNOWN_TIME_UNIT", f"时限 \"{source}\" 缺少单位;可用的单位: {_VALID_UNITS}",
                             f"例如 {number}工作日 (a unit is required)")
    key = re.sub(r"[\s\-]+", "_", unit_text.lower())
    unit = _ALIASES.get(key)
    if unit is None:
        if key in _AMBIGUOUS:
            first, second = _AMBIGUOUS[key]
            raise TimeLimitError(
                "UNKNOWN_TIME_UNIT",
                f"时限单位 \"{unit_text}\" 有歧义,请写明 {first.zh} ({first.value}) 还是 {second.zh} ({second.value})"
                f";可用的单位: {_VALID_UNITS}",
                f"例如 {number}{first.zh} 或 {number}{second.zh}")
        raise _unknown_unit(unit_text)
    try:
        amount = Decimal(number)
    except InvalidOperation:  # pragma: no cover - the pattern only admits decimal numerals
        raise TimeLimitError("BAD_TIME_LIMIT", f"时限数值无效: \"{number}\"", "例如 5工作日") from None
    value: int | float = int(amount) if amount == amount.to_integral_value() else float(amount)
    return TimeLimit(value, unit)
