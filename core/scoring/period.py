"""Assessment periods: month ``2026-03``, quarter ``2026-Q1``, year ``2026``, or custom ``2026-03-01..2026-03-15``
(both days included). Bounds are [start, end) in China time, the time every stored moment is kept in."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..workcal import SHANGHAI, as_shanghai

_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{2})|Q([1-4])))?$")
_CUSTOM = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime
    end: datetime           # exclusive

    @property
    def kind(self) -> str:
        return "custom" if ".." in self.label else "year" if len(self.label) == 4 else \
            "quarter" if "Q" in self.label else "month"

    def __str__(self) -> str:
        return self.label

    def describe(self) -> str:
        last = self.end - timedelta(days=1)
        return f"{self.label}({self.start:%Y-%m-%d} 至 {last:%Y-%m-%d})"


def _at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=SHANGHAI)


def parse_period(text: str) -> Period:
    text = str(text).strip()
    custom = _CUSTOM.match(text)
    if custom:
        first, last = date.fromisoformat(custom.group(1)), date.fromisoformat(custom.group(2))
        if last < first:
            raise PeriodError(f"期间 {text}: 结束日期早于开始日期")
        return Period(text, _at(first), _at(last + timedelta(days=1)))
    m = _PERIOD.match(text)
    if not m:
        raise PeriodError(f'期间 "{text}" 应写作 2026-03(月)、2026-Q1(季)、2026(年)或 2026-03-01..2026-03-15')
    year, month, quarter = int(m.group(1)), m.group(2), m.group(3)
    if month:
        mo = int(month)
        if not 1 <= mo <= 12:
            raise PeriodError(f"期间 {text}: 月份 {mo} 无效")
        start, end = date(year, mo, 1), date(year + (mo == 12), mo % 12 + 1, 1)
    elif quarter:
        q = int(quarter)
        start, end = date(year, 3 * q - 2, 1), date(year + (q == 4), (3 * q) % 12 + 1, 1)
    else:
        start, end = date(year, 1, 1), date(year + 1, 1, 1)
    return Period(text, _at(start), _at(end))


def current_period(kind: str, now: datetime | None = None) -> Period:
    """The month / quarter / year containing ``now`` (the pack's ``scoring.period``)."""
    now = as_shanghai(now or datetime.now(SHANGHAI))
    if kind == "year":
        return parse_period(f"{now.year}")
    if kind == "quarter":
        return parse_period(f"{now.year}-Q{(now.month - 1) // 3 + 1}")
    return parse_period(f"{now.year}-{now.month:02d}")
