"""工作日历 · The working-day calendar and deadline arithmetic.

Which days are working days comes, in order of precedence, from the pack's explicit ``workdays`` /
``holidays``, then a pack-supplied complete year (``calendar.years.<year>``), then the maintained
``chinese_calendar`` library (State Council calendar with 调休 make-up working days). A year that neither the
pack nor the library knows is an error: guessing "Monday to Friday" around 春节 or 国庆 would silently move
every deadline by up to a week.

Counting conventions (see docs/calendar.md):

* ``分钟 / 小时 / 自然日`` are elapsed natural time: ``start + N × unit``.
* ``N工作日`` follows 12345 practice 「自受理之日起N个工作日」: the day of acceptance is not counted, whatever
  the hour; the deadline is the close of business (end of the last work-hours window) of the Nth working day
  after that day.
* ``N工作时`` counts only time inside the work-hours windows of working days, starting at ``start`` (or at
  the next window opening if ``start`` is outside working time).

All datetimes are handled in Asia/Shanghai: naive input is taken as Beijing time, aware input is converted,
and results are aware Asia/Shanghai datetimes. China has had no daylight saving time since 1991, so a
working day's windows always have their nominal length.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

from .timelimit import TimeLimit, TimeUnit, parse_time_limit

__all__ = [
    "SHANGHAI",
    "CalendarError",
    "YearSpec",
    "WorkCalendar",
    "DEFAULT_WORK_HOURS",
    "as_shanghai",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")

DEFAULT_WORK_HOURS: tuple[tuple[time, time], ...] = ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 30)))

_US_PER_SECOND = 1_000_000
_US_PER_HOUR = 3600 * _US_PER_SECOND
_US_PER_DAY = 24 * _US_PER_HOUR
_SPEC_KEYS = ("work_hours", "holidays", "workdays", "years")
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~至到]\s*(\d{1,2}):(\d{2})\s*$")

Path = tuple[str | int, ...]


class CalendarError(ValueError):
    """A calendar spec or a date the calendar cannot answer. ``code`` is always ``BAD_CALENDAR``.

    ``path`` is the tuple of keys from the mapping given to :meth:`WorkCalendar.from_spec` (plus its
    ``path`` argument) to the offending value, e.g. ``("holidays", 2)`` or ``("years", 2027)``.
    """

    code = "BAD_CALENDAR"

    def __init__(self, message: str, path: Path = (), hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = tuple(path)
        self.hint = hint

    def within(self, *prefix: str | int) -> CalendarError:
        """The same error with ``prefix`` put in front of its path (used when nesting specs)."""
        return CalendarError(self.message, (*prefix, *self.path), self.hint)

    def __str__(self) -> str:
        where = ".".join(str(p) for p in self.path)
        text = f"{self.code} {self.message}" + (f" (at {where})" if where else "")
        return text + (f"\n    hint: {self.hint}" if self.hint else "")


def as_shanghai(moment: datetime) -> datetime:
    """``moment`` as an aware Asia/Shanghai datetime; a naive datetime is taken to be Beijing time."""
    if moment.__class__ is datetime and moment.tzinfo is SHANGHAI:
        return moment  # what astimezone(SHANGHAI) returns too; most values here already are (4+ per case)
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


@dataclass(frozen=True)
class YearSpec:
    """A complete calendar for one year: every rest day that falls on Monday–Friday (``holidays``) and every
    weekend day that is worked (``workdays``, 调休上班日). Other weekdays work and other weekend days rest —
    the same rule the State Council notice follows, so the notice can be copied as is."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        for key in ("holidays", "workdays"):
            for day in getattr(self, key):
                if isinstance(day, datetime) or not isinstance(day, date):
                    raise CalendarError(f"日期 {day!r} 不是日期(应为 YYYY-MM-DD)", (key,))
        both = self.holidays & self.workdays
        if both:
            raise CalendarError(f"日期 {min(both)} 同时出现在 holidays 和 workdays 中", ("workdays",))


@dataclass(frozen=True)
class WorkCalendar:
    """A county's working-day calendar. Build it from a pack with :meth:`from_spec`.

    Immutable and hashable; per-year working-day lists are computed once per (year, pack data) by a pure
    cached function, so calendars can be shared freely between threads and requests.
    """

    work_hours: tuple[tuple[time, time], ...] = DEFAULT_WORK_HOURS
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    years: Mapping[int, YearSpec] = field(default_factory=lambda: MappingProxyType({}))

    # Derived at construction: windows as microseconds since midnight, their total, and close of business.
    _windows: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)
    _capacity: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "work_hours", tuple((s, e) for s, e in self.work_hours))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        # A private copy behind a read-only view: the caller's dict cannot change the calendar later.
        object.__setattr__(self, "years", MappingProxyType(dict(sorted(self.years.items()))))
        if not self.work_hours:
            raise CalendarError("work_hours 至少要有一个工作时段", ("work_hours",), "例如 [\"09:00-12:00\"]")
        windows: list[tuple[int, int]] = []
        for i, (start, end) in enumerate(self.work_hours):
            if not isinstance(start, time) or not isinstance(end, time) or start.tzinfo or end.tzinfo:
                raise CalendarError(f"工作时段 {start!r}-{end!r} 应由两个不带时区的时刻组成", ("work_hours", i))
            lo, hi = _time_us(start), _time_us(end)
            if hi <= lo:
                raise CalendarError(f"工作时段 {_hm(start)}-{_hm(end)} 的结束时间必须晚于开始时间"
                                    "(不支持跨午夜的时段)", ("work_hours", i))
            if windows and lo < windows[-1][1]:
                raise CalendarError(f"工作时段 {_hm(start)}-{_hm(end)} 与前一时段重叠或顺序颠倒",
                                    ("work_hours", i), "时段须按时间先后排列且互不重叠")
            windows.append((lo, hi))
        object.__setattr__(self, "_windows", tuple(windows))
        object.__setattr__(self, "_capacity", sum(hi - lo for lo, hi in windows))
        for key in ("holidays", "workdays"):
            for day in getattr(self, key):
                if isinstance(day, datetime) or not isinstance(day, date):
                    raise CalendarError(f"日期 {day!r} 不是日期(应为 YYYY-MM-DD)", (key,))
        both = self.holidays & self.workdays
        if both:
            raise CalendarError(f"日期 {min(both)} 同时出现在 holidays 和 workdays 中", ("workdays",))
        for year, spec in self.years.items():
            if not isinstance(year, int) or isinstance(year, bool) or not 1 <= year <= 9999:
                raise CalendarError(f"年份 {year!r} 无效,应为四位数年份,如 2027", ("years", year))
            if not isinstance(spec, YearSpec):
                raise CalendarError(f"years.{year} 应为 YearSpec", ("years", year))
            for key in ("holidays", "workdays"):
                stray = sorted(d for d in getattr(spec, key) if d.year != year)
                if stray:
                    raise CalendarError(f"years.{year}.{key} 中的日期 {stray[0]} 不属于 {year} 年",
                                        ("years", year, key))

    def __hash__(self) -> int:
        # MappingProxyType is unhashable, so hash the year specs as sorted items.
        return hash((self.work_hours, self.holidays, self.workdays, tuple(self.years.items())))

    # ------------------------------------------------------------------ construction from a pack

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | None, *, path: Path = ()) -> WorkCalendar:
        """Build a calendar from a pack's ``calendar:`` mapping (``None`` gives the default calendar).

        Dates may be ``datetime.date`` objects (as PyYAML loads ``2026-05-06``) or ``YYYY-MM-DD`` strings.
        Errors carry ``path`` + the keys to the offending value.
        """
        try:
            return cls._from_spec(spec)
        except CalendarError as error:
            raise error.within(*path) from None

    @classmethod
    def _from_spec(cls, spec: Mapping[str, Any] | None) -> WorkCalendar:
        if spec is None:
            return cls()
        if not isinstance(spec, Mapping):
            raise CalendarError("calendar 必须是映射(键: 值)", (), "可用的键: " + "、".join(_SPEC_KEYS))
        for key in spec:
            if key not in _SPEC_KEYS:
                raise CalendarError(f"未知的日历字段 \"{key}\"", (key,), "可用的键: " + "、".join(_SPEC_KEYS))
        kwargs: dict[str, Any] = {}
        if spec.get("work_hours") is not None:
            raw = _as_list(spec["work_hours"], ("work_hours",))
            kwargs["work_hours"] = tuple(_parse_window(item, ("work_hours", i)) for i, item in enumerate(raw))
        holidays = _parse_dates(spec.get("holidays"), ("holidays",))
        workdays = _parse_dates(spec.get("workdays"), ("workdays",))
        _check_disjoint(holidays, workdays, ())
        kwargs["holidays"] = frozenset(d for d, _ in holidays)
        kwargs["workdays"] = frozenset(d for d, _ in workdays)
        years_raw = spec.get("years")
        if years_raw is not None:
            if not isinstance(years_raw, Mapping):
                raise CalendarError("years 必须是「年份: {holidays: [...], workdays: [...]}」的映射", ("years",))
            years: dict[int, YearSpec] = {}
            for key, body in years_raw.items():
                year = _parse_year(key, ("years", key))
                if year in years:
                    raise CalendarError(f"年份 {year} 重复出现", ("years", key))
                years[year] = _parse_year_spec(year, body, ("years", key))
            kwargs["years"] = years
        return cls(**kwargs)

    # ------------------------------------------------------------------ days

    def _year(self, year: int) -> tuple[date, ...]:
        return _year_workdays(year, self.years.get(year), self.holidays, self.workdays)

    def is_workday(self, day: date | datetime) -> bool:
        """Whether ``day`` (a datetime is taken at its Beijing date) is a working day.

        Raises :class:`CalendarError` for a year neither the pack nor ``chinese_calendar`` knows, unless the
        pack lists ``day`` itself in ``holidays``/``workdays``."""
        day = _as_date(day)
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        days = self._year(day.year)
        i = bisect_left(days, day)
        return i < len(days) and days[i] == day

    def workday_after(self, day: date | datetime, n: int = 1) -> date:
        """The ``n``-th working day strictly after ``day`` (``n >= 1``); ``day`` itself is never counted."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive integer, not {n!r}")
        day = _as_date(day)
        year, remaining = day.year, n
        while True:
            days = self._year(year)
            first = bisect_right(days, day) if year == day.year else 0
            available = len(days) - first
            if remaining <= available:
                return days[first + remaining - 1]
            remaining -= available
            year += 1
            if year > 9999:
                raise CalendarError("日期超出可计算范围(9999 年以后)", ("years",))

    def _count_workdays(self, after: date, through: date) -> int:
        """Number of working days d with ``after < d <= through``."""
        if through <= after:
            return 0
        total = 0
        for year in range(after.year, through.year + 1):
            days = self._year(year)
            total += bisect_right(days, through) - bisect_right(days, after)
        return total

    # ------------------------------------------------------------------ time of day

    @property
    def close_of_business(self) -> time:
        """End of the last work-hours window (下班时间): the time of day a ``workdays`` deadline falls at."""
        return self.work_hours[-1][1]

    @property
    def hours_per_workday(self) -> float:
        """Working hours in one working day (7.0 with the default windows)."""
        return self._capacity / _US_PER_HOUR

    def _work_us(self, lo: int, hi: int) -> int:
        """Working microseconds between two offsets within one working day."""
        total = 0
        for start, end in self._windows:
            a, b = max(start, lo), min(end, hi)
            if b > a:
                total += b - a
        return total

    def _locate(self, day: date, offset: int, amount: int) -> datetime:
        """The moment on working ``day`` when ``amount`` (> 0) working microseconds after ``offset`` have
        elapsed; the caller guarantees the day has that much left."""
        for start, end in self._windows:
            a = max(start, offset)
            if a >= end:
                continue
            if amount <= end - a:
                return _at(day, a + amount)
            amount -= end - a
        raise AssertionError("not enough working time left in the day")  # guarded by callers

    def is_working_time(self, moment: datetime) -> bool:
        """Whether ``moment`` is on a working day within a work-hours window (both ends included, so a
        deadline at 17:30 counts as working time)."""
        moment = as_shanghai(moment)
        if not self.is_workday(moment.date()):
            return False
        offset = _offset_us(moment)
        return any(start <= offset <= end for start, end in self._windows)

    # ------------------------------------------------------------------ deadlines

    def deadline(self, start: datetime, limit: TimeLimit | str) -> datetime:
        """The moment a case started (受理) at ``start`` with time limit ``limit`` is due.

        * minutes, hours, days: ``start`` plus that much elapsed time;
        * workdays: close of business of the N-th working day after ``start``'s date (start day not counted);
        * work_hours: after N hours of time inside work-hours windows on working days, from ``start``.
        """
        limit = parse_time_limit(limit)
        start = as_shanghai(start)
        unit = limit.unit
        if unit is TimeUnit.WORKDAYS:
            day = self.workday_after(start.date(), int(limit.value))
            return _at(day, self._windows[-1][1])
        if unit is TimeUnit.WORK_HOURS:
            return self._add_work_us(start, limit.minutes * 60 * _US_PER_SECOND)
        span = timedelta(days=limit.value) if unit is TimeUnit.DAYS else timedelta(minutes=limit.minutes)
        # Arithmetic in UTC so the result is exact elapsed time even across an offset change.
        return (start.astimezone(timezone.utc) + span).astimezone(SHANGHAI)

    def _add_work_us(self, start: datetime, amount: int) -> datetime:
        day, offset = start.date(), _offset_us(start)
        if self.is_workday(day):
            left_today = self._work_us(offset, _US_PER_DAY)
            if amount <= left_today:
                return self._locate(day, offset, amount)
            amount -= left_today
        # Skip whole working days at once, leaving 1..capacity microseconds for the final day.
        full_days = (amount - 1) // self._capacity
        final = self.workday_after(day, full_days + 1)
        return self._locate(final, 0, amount - full_days * self._capacity)

    def working_time_between(self, start: datetime, end: datetime, unit: TimeUnit | str) -> float:
        """Elapsed time from ``start`` to ``end`` in ``unit``, counted the way :meth:`deadline` counts, so
        ``working_time_between(s, deadline(s, L), L.unit) == L.value``.

        * minutes, hours, days: elapsed natural time;
        * work_hours: hours of time inside work-hours windows on working days;
        * workdays: working days after ``start``'s date that have been completed (closed) by ``end``, plus
          the fraction of the current working day's working hours already elapsed. The start day never
          counts, matching the deadline convention.

        Antisymmetric: if ``end`` is before ``start`` the result is ``-working_time_between(end, start)``.
        Use it to measure (超期 how much, 剩余 how much); decide 按期 by comparing ``end <= deadline``.
        """
        unit = TimeUnit(unit)
        start, end = as_shanghai(start), as_shanghai(end)
        if end < start:
            return -self.working_time_between(end, start, unit)
        if unit is TimeUnit.WORK_HOURS:
            return self._work_us_between(start, end) / _US_PER_HOUR
        if unit is TimeUnit.WORKDAYS:
            first, last = start.date(), end.date()
            if last <= first:
                return 0.0
            whole = self._count_workdays(first, last - timedelta(days=1))
            partial = self._work_us(0, _offset_us(end)) if self.is_workday(last) else 0
            return whole + partial / self._capacity
        elapsed = end.astimezone(timezone.utc) - start.astimezone(timezone.utc)
        per = {TimeUnit.MINUTES: timedelta(minutes=1), TimeUnit.HOURS: timedelta(hours=1),
               TimeUnit.DAYS: timedelta(days=1)}[unit]
        return elapsed / per

    def _work_us_between(self, start: datetime, end: datetime) -> int:
        first, last = start.date(), end.date()
        if first == last:
            return self._work_us(_offset_us(start), _offset_us(end)) if self.is_workday(first) else 0
        total = self._work_us(_offset_us(start), _US_PER_DAY) if self.is_workday(first) else 0
        total += self._count_workdays(first, last - timedelta(days=1)) * self._capacity
        if self.is_workday(last):
            total += self._work_us(0, _offset_us(end))
        return total


# ---------------------------------------------------------------------- per-year working days

@lru_cache(maxsize=64)
def _library_workdays(year: int) -> tuple[date, ...] | None:
    """Working days of ``year`` according to chinese_calendar, or None if the library lacks the year."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return None
    return tuple(d for d in _days_of(year) if chinese_calendar.is_workday(d))


@lru_cache(maxsize=256)
def _year_workdays(year: int, spec: YearSpec | None, holidays: frozenset[date],
                   workdays: frozenset[date]) -> tuple[date, ...]:
    """Sorted working days of ``year`` for a calendar. Pure, so caching by its arguments is safe; the
    calendar's own frozensets are passed whole because their hashes are cached on the objects."""
    if spec is not None:
        base = [d for d in _days_of(year)
                if d in spec.workdays or (d.weekday() < 5 and d not in spec.holidays)]
    else:
        known = _library_workdays(year)
        if known is None:
            raise CalendarError(
                f"{year} 年的工作日历未知:chinese_calendar 库未收录该年份,规则包也没有提供。"
                f"请在规则包中添加 calendar.years.{year},列出该年全部节假日和调休上班日",
                ("years", year),
                f"按国务院办公厅《关于{year}年部分节假日安排的通知》填写 holidays 和 workdays;"
                f"add calendar.years.{year} with the year's holidays and make-up workdays")
        base = list(known)
    days = {d for d in base if d not in holidays}
    days.update(d for d in workdays if d.year == year)
    return tuple(sorted(days))


def _days_of(year: int) -> Iterable[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


# ---------------------------------------------------------------------- small helpers

def _as_date(day: date | datetime) -> date:
    if isinstance(day, datetime):
        return as_shanghai(day).date()
    if isinstance(day, date):
        return day
    raise TypeError(f"expected a date, got {type(day).__name__}")


def _time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * _US_PER_SECOND + t.microsecond


def _offset_us(moment: datetime) -> int:
    return _time_us(moment.time())


def _at(day: date, offset: int) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI) + timedelta(microseconds=offset)


def _hm(t: Any) -> str:
    return t.strftime("%H:%M") if isinstance(t, time) else repr(t)


def _as_list(value: Any, path: Path) -> list[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise CalendarError(f"{path[-1]} 必须是列表", path)
    return list(value)


def _parse_window(item: Any, path: Path) -> tuple[time, time]:
    match = _WINDOW.match(item) if isinstance(item, str) else None
    if match is None:
        raise CalendarError(f"工作时段 {item!r} 格式错误,应为 \"HH:MM-HH:MM\"", path, "例如 \"09:00-12:00\"")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise CalendarError(f"工作时段 \"{item}\" 的时刻无效", path, "时刻为 00:00 至 23:59")
    return time(h1, m1), time(h2, m2)


def _parse_date(item: Any, path: Path) -> date:
    if isinstance(item, datetime):
        raise CalendarError(f"\"{item}\" 带有时刻,应只写日期 YYYY-MM-DD", path)
    if isinstance(item, date):
        return item
    if isinstance(item, str):
        try:
            return date.fromisoformat(item.strip())
        except ValueError:
            pass
    raise CalendarError(f"日期 {item!r} 格式错误,应为 YYYY-MM-DD", path, "例如 2026-05-06")


def _parse_dates(value: Any, path: Path) -> list[tuple[date, Path]]:
    if value is None:
        return []
    return [(_parse_date(item, (*path, i)), (*path, i)) for i, item in enumerate(_as_list(value, path))]


def _check_disjoint(holidays: list[tuple[date, Path]], workdays: list[tuple[date, Path]], path: Path) -> None:
    rest = {d for d, _ in holidays}
    for day, where in workdays:
        if day in rest:
            raise CalendarError(f"日期 {day} 同时出现在 holidays 和 workdays 中", (*path, *where))


def _parse_year(key: Any, path: Path) -> int:
    if isinstance(key, bool):
        raise CalendarError(f"年份 {key!r} 无效,应为四位数年份,如 2027", path)
    if isinstance(key, int):
        year = key
    elif isinstance(key, str) and key.strip().isdigit():
        year = int(key.strip())
    else:
        raise CalendarError(f"年份 {key!r} 无效,应为四位数年份,如 2027", path)
    if not 1000 <= year <= 9999:
        raise CalendarError(f"年份 {key!r} 无效,应为四位数年份,如 2027", path)
    return year


def _parse_year_spec(year: int, body: Any, path: Path) -> YearSpec:
    if not isinstance(body, Mapping):
        raise CalendarError(f"years.{year} 必须是「holidays: [...], workdays: [...]」的映射", path)
    for key in body:
        if key not in ("holidays", "workdays"):
            raise CalendarError(f"years.{year} 中未知的字段 \"{key}\"", (*path, key), "可用的键: holidays、workdays")
    if not body.get("holidays"):
        # An empty year would silently mean "Monday to Friday" — exactly the guess the calendar refuses.
        raise CalendarError(f"years.{year} 必须列出该年的节假日 (holidays)", (*path, "holidays"),
                            f"按国务院办公厅《关于{year}年部分节假日安排的通知》填写")
    holidays = _parse_dates(body.get("holidays"), (*path, "holidays"))
    workdays = _parse_dates(body.get("workdays"), (*path, "workdays"))
    for day, where in holidays + workdays:
        if day.year != year:
            raise CalendarError(f"years.{year} 中的日期 {day} 不属于 {year} 年", where)
    _check_disjoint(holidays, workdays, ())
    return YearSpec(frozenset(d for d, _ in holidays), frozenset(d for d, _ in workdays))
