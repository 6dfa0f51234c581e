"""The simulation's minute-axis calendar counts exactly like WorkCalendar.deadline."""
from __future__ import annotations

import random
from datetime import datetime
from math import inf

from wangge.core.compare.fastcal import MinuteCalendar
from wangge.core.events import CHINA
from wangge.core.timelimit import parse_time_limit
from wangge.core.workcal import WorkCalendar

LIMITS = ["5工作时", "1工作日", "15工作日", "30分钟", "2小时", "3自然日", "0.5工作时", "7工作时", "14工作时"]


def test_deadlines_match_workcalendar() -> None:
    cal = WorkCalendar(holidays=frozenset({datetime(2026, 6, 1).date()}))
    mc = MinuteCalendar.build(cal, datetime(2026, 1, 20, tzinfo=CHINA))
    rng = random.Random(3)
    for _ in range(3000):
        t = rng.uniform(0, 200 * 1440)
        limit = parse_time_limit(rng.choice(LIMITS))
        expected = mc.minutes(cal.deadline(mc.moment(t), limit))
        assert abs(mc.deadline(t, limit) - expected) < 1e-6, (limit, mc.moment(t))


def test_horizon_stops_at_unknown_year() -> None:
    mc = MinuteCalendar.build(WorkCalendar(), datetime(2026, 12, 1, tzinfo=CHINA))
    assert mc.horizon == 31 * 1440  # chinese_calendar knows 2026, not 2027: no guessed working days
    assert mc.deadline(30 * 1440, parse_time_limit("5工作日")) == inf
