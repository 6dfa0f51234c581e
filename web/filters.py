"""Jinja filters: times in China time, percentages, deadlines as people read them."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from jinja2 import Environment
from wangge.core.events import CHINA, URGENCY_NAMES


def as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    # SQLite gives back naive datetimes; everything is stored in UTC.
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def cn_time(value: Any) -> str:
    moment = as_datetime(value)
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else "—"


def due_class(value: Any, closed: Any = None) -> str:
    """CSS class of a deadline: overdue, due within a day, or fine."""
    moment = as_datetime(value)
    if moment is None or closed:
        return ""
    left = (moment - datetime.now(timezone.utc)).total_seconds()
    return "overdue" if left < 0 else ("soon" if left < 86400 else "ok")


def due_text(value: Any, closed: Any = None) -> str:
    moment = as_datetime(value)
    if moment is None:
        return "无时限"
    if closed:
        return cn_time(moment)
    left = (moment - datetime.now(timezone.utc)).total_seconds()
    hours = abs(left) / 3600
    span = f"{hours:.0f} 小时" if hours < 48 else f"{hours / 24:.0f} 天"
    return f"{cn_time(moment)}(已超期 {span})" if left < 0 else f"{cn_time(moment)}(剩 {span})"


def percent(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def pts(value: Any) -> str:
    """Points as the engine rounds them for people: two decimals."""
    return "—" if value is None else f"{float(value):.2f}"


def signed(value: Any) -> str:
    return "—" if value is None else f"{float(value):+.2f}"


def pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


def install(env: Environment) -> None:
    env.filters.update(cn_time=cn_time, due_class=due_class, due_text=due_text, percent=percent, pretty=pretty, pts=pts, signed=signed,
                       urgency=lambda u: URGENCY_NAMES.get(u, u))
