"""Running a portal process: uvicorn, after readying what every request would otherwise build first.

Shared by ``wangge serve`` and bench/intake.py, so the benchmark measures the process users run.
"""
from __future__ import annotations

import gc
from datetime import date, timedelta
from typing import Any

from wangge.core.workcal import CalendarError

from .deployment import Deployment


def ready(deployment: Deployment | None = None) -> None:
    """Compile each county's router now, then move every object alive (packs, routers, templates,
    modules) out of the garbage collector's view.

    Why freeze: a loaded pack is some 100,000 objects that live as long as the process. Each full
    collection walked all of them — 68 ms on the 2-core bench machine, paid by whichever request
    triggered it, and the intake p99 (60 ms) was exactly those pauses. Frozen objects are never
    scanned; a pack published later is simply collected as usual."""
    if deployment is not None:
        for slug in deployment.counties:
            deployment.router(slug)
    gc.collect()
    gc.freeze()


def calendar_warnings(deployment: Deployment, today: date, horizon: int = 60) -> list[str]:
    """One warning per county whose pack's calendar does not know the year that begins within
    ``horizon`` days: deadlines reaching into it cannot be computed (see docs/calendar.md)."""
    ahead = today + timedelta(days=horizon)
    if ahead.year == today.year:
        return []
    warnings = []
    for slug in deployment.counties:
        try:
            deployment.pack(slug).calendar.is_workday(date(ahead.year, 1, 1))
        except CalendarError:
            warnings.append(f"{slug}: 工作日历不含 {ahead.year} 年:期限跨入该年时,新案件立案不设期限,"
                            f"设定期限的操作被拒绝。请在规则包中加入 calendar.years.{ahead.year}"
                            f"(全部节假日与调休上班日) (the calendar does not know {ahead.year})")
    return warnings


def run(app: Any, deployment: Deployment | None, *, host: str, port: int, **options: Any) -> None:
    import uvicorn  # noqa: PLC0415  (keeps `wangge --help` fast)

    ready(deployment)
    uvicorn.run(app, host=host, port=port, **options)
