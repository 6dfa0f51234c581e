"""A pack's working calendar as a table over a minute axis, for the comparison's simulation.

The simulation handles hundreds of thousands of cases; :class:`~wangge.core.workcal.WorkCalendar` answers one
deadline in microseconds but allocates datetimes on every call. Here time is a float number of minutes since
``epoch`` (midnight, Beijing time) and the working days of the span are tabulated once, so "add 3 working
hours", "close of business of the 5th working day after" and "working minutes so far" are O(1) or one bisect.
The same counting conventions as ``WorkCalendar.deadline`` apply (checked by tests/compare/test_fastcal.py).

The table stops at the ``horizon``: the first day whose year neither the pack nor ``chinese_calendar`` knows,
or ``max_days`` after the epoch. A case that would end beyond it is reported as still open at the horizon,
never placed on a guessed working day.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import inf

from ..timelimit import TimeLimit, TimeUnit
from ..workcal import CalendarError, WorkCalendar, as_shanghai

DAY = 1440.0


@dataclass(frozen=True)
class MinuteCalendar:
    epoch: datetime                       # aware, midnight Asia/Shanghai
    windows: tuple[tuple[float, float], ...]  # work-hours windows, minutes after midnight
    capacity: float                       # working minutes per working day
    workday: tuple[bool, ...]             # per day index since epoch
    before: tuple[float, ...]             # working minutes before each day (len = days + 1)
    workdays: tuple[int, ...]             # indices of working days, ascending
    horizon: float                        # minutes; the table covers [0, horizon)

    @classmethod
    def build(cls, calendar: WorkCalendar, epoch: datetime, max_days: int = 400) -> MinuteCalendar:
        epoch = as_shanghai(epoch).replace(hour=0, minute=0, second=0, microsecond=0)
        windows = tuple((s.hour * 60 + s.minute + s.second / 60, e.hour * 60 + e.minute + e.second / 60)
                        for s, e in calendar.work_hours)
        capacity = sum(e - s for s, e in windows)
        flags: list[bool] = []
        day0 = epoch.date()
        for k in range(max_days):
            try:
                flags.append(calendar.is_workday(day0 + timedelta(days=k)))
            except CalendarError:  # a year nobody knows: stop the table here rather than guess
                break
        before = [0.0]
        for flag in flags:
            before.append(before[-1] + (capacity if flag else 0.0))
        return cls(epoch, windows, capacity, tuple(flags), tuple(before),
                   tuple(k for k, f in enumerate(flags) if f), len(flags) * DAY)

    # -- conversions ---------------------------------------------------------------------------------
    def minutes(self, moment: datetime) -> float:
        return (as_shanghai(moment) - self.epoch).total_seconds() / 60.0

    def moment(self, minutes: float) -> datetime:
        return self.epoch + timedelta(minutes=minutes)

    # -- working time ----------------------------------------------------------------------------------
    def _in_day(self, offset: float) -> float:
        total = 0.0
        for s, e in self.windows:
            if offset > s:
                total += min(offset, e) - s
        return total

    def worked(self, t: float) -> float:
        """Working minutes from the epoch to ``t`` (inf beyond the horizon)."""
        k = int(t // DAY)
        if k < 0:
            return 0.0
        if k >= len(self.workday):
            return inf
        return self.before[k] + (self._in_day(t - k * DAY) if self.workday[k] else 0.0)

    def add_work(self, t: float, amount: float) -> float:
        """The earliest moment at which ``amount`` working minutes after ``t`` have elapsed (inf: beyond).
        (``worked`` is inlined: this runs a few hundred thousand times per replayed pack.)"""
        if not 0 <= t < self.horizon:
            return inf
        k = int(t // DAY)
        target = self.before[k] + amount
        if self.workday[k]:
            off = t - k * DAY
            for s, e in self.windows:
                if off > s:
                    target += (min(e, off)) - s
        # The first day j (from t's day on) by whose end the cumulative working time reaches target.
        j = bisect_left(self.before, target, k + 1) - 1
        if j >= len(self.workday):
            return inf
        need, acc = target - self.before[j], 0.0
        for s, e in self.windows:
            if need <= acc + (e - s):
                moment = j * DAY + s + (need - acc)
                return max(t, moment)
            acc += e - s
        return inf  # unreachable: before[] is built from the same windows

    def deadline(self, t: float, limit: TimeLimit) -> float:
        """``WorkCalendar.deadline`` on the minute axis (inf when it falls beyond the horizon)."""
        unit = limit.unit
        if unit is TimeUnit.WORKDAYS:
            k = int(t // DAY)
            i = bisect_right(self.workdays, k) + int(limit.value) - 1
            return self.workdays[i] * DAY + self.windows[-1][1] if i < len(self.workdays) else inf
        if unit is TimeUnit.WORK_HOURS:
            return self.add_work(t, limit.minutes)
        if unit is TimeUnit.DAYS:
            return t + limit.value * DAY
        return t + limit.minutes
