"""The working-day calendar: real 调休 dates, deadlines, working time and pack-supplied years."""

from __future__ import annotations

import time as clock
from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from wangge.core.timelimit import TimeLimit, TimeUnit, parse_time_limit
from wangge.core.workcal import SHANGHAI, CalendarError, WorkCalendar, YearSpec, as_shanghai

CAL = WorkCalendar()


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# An illustrative 2027 (the State Council has not published it; the library stops at 2026):
# 元旦 Fri 01-01, 春节 02-05 .. 02-11 with Saturday 02-13 worked — the shape of docs/packs.md.
YEAR_2027 = {
    "holidays": ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"],
    "workdays": ["2027-02-13"],
}


# ---------------------------------------------------------------------------- which days work

def test_national_day_2024() -> None:
    assert CAL.is_workday(date(2024, 9, 29))  # Sunday, 调休上班
    assert all(not CAL.is_workday(date(2024, 10, d)) for d in range(1, 8))
    assert CAL.is_workday(date(2024, 10, 8))
    assert CAL.is_workday(date(2024, 10, 12))  # Saturday, 调休上班
    assert not CAL.is_workday(date(2024, 10, 13))
    assert not CAL.is_workday(date(2024, 9, 28))  # an ordinary Saturday


def test_spring_festival_2026() -> None:
    assert CAL.is_workday(date(2026, 2, 14))  # Saturday, 调休上班
    assert all(not CAL.is_workday(date(2026, 2, d)) for d in range(15, 24))
    assert CAL.is_workday(date(2026, 2, 24))
    assert CAL.is_workday(date(2026, 2, 28))  # Saturday, 调休上班


def test_is_workday_takes_a_datetime_at_its_beijing_date() -> None:
    # 2024-09-30 20:00 UTC is 2024-10-01 04:00 in Beijing: National Day.
    assert not CAL.is_workday(datetime(2024, 9, 30, 20, tzinfo=timezone.utc))
    assert CAL.is_workday(datetime(2024, 9, 30, 20))  # naive = Beijing time


def test_unknown_year_is_an_error_not_a_weekend_guess() -> None:
    for probe in (lambda: CAL.is_workday(date(2027, 3, 1)),
                  lambda: CAL.deadline(bj(2026, 12, 30, 10), parse_time_limit("3工作日")),
                  lambda: CAL.deadline(bj(2026, 12, 31, 17), parse_time_limit("2工作时")),
                  lambda: CAL.working_time_between(bj(2026, 12, 30), bj(2027, 1, 5), TimeUnit.WORKDAYS)):
        with pytest.raises(CalendarError) as caught:
            probe()
        error = caught.value
        assert error.code == "BAD_CALENDAR"
        assert "2027" in error.message and "calendar.years.2027" in error.message
        assert error.path == ("years", 2027)
    with pytest.raises(CalendarError, match="2003"):
        CAL.is_workday(date(2003, 6, 2))


def test_deadline_inside_a_known_year_does_not_need_the_next_year() -> None:
    assert CAL.deadline(bj(2026, 12, 28, 10), parse_time_limit("3工作日")) == bj(2026, 12, 31, 17, 30)


def test_pack_supplied_year() -> None:
    cal = WorkCalendar.from_spec({"years": {2027: YEAR_2027}})
    assert cal.years[2027] == YearSpec(frozenset({date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 8),
                                                  date(2027, 2, 9), date(2027, 2, 10), date(2027, 2, 11)}),
                                       frozenset({date(2027, 2, 13)}))
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 1, 4))
    assert not cal.is_workday(date(2027, 2, 8))
    assert cal.is_workday(date(2027, 2, 13))  # Saturday worked
    assert not cal.is_workday(date(2027, 2, 14))
    # Across the year boundary: 12-31 is the start day, 01-01 a holiday, 01-02/03 a weekend.
    assert cal.deadline(bj(2026, 12, 31, 10), parse_time_limit("1工作日")) == bj(2027, 1, 4, 17, 30)
    # 02-04 Thu is the start day; 02-05 .. 02-11 off, 02-12 Fri works, 02-13 Sat works.
    assert cal.deadline(bj(2027, 2, 4, 9), parse_time_limit("2工作日")) == bj(2027, 2, 13, 17, 30)
    assert cal.working_time_between(bj(2027, 2, 4, 9), bj(2027, 2, 13, 17, 30), "workdays") == 2
    with pytest.raises(CalendarError, match="2028"):
        cal.is_workday(date(2028, 1, 3))


def test_year_spec_replaces_the_library_for_its_year() -> None:
    # A county that follows a different arrangement for 2026 supplies the whole year.
    cal = WorkCalendar.from_spec({"years": {"2026": {"holidays": ["2026-01-01"], "workdays": []}}})
    assert not cal.is_workday(date(2026, 2, 14))  # no longer a make-up day
    assert cal.is_workday(date(2026, 2, 16))  # no longer Spring Festival
    assert CAL.is_workday(date(2026, 2, 14))  # other calendars are unaffected


def test_pack_extra_holiday_and_workday() -> None:
    cal = WorkCalendar.from_spec({"holidays": [date(2026, 5, 6)], "workdays": ["2026-03-07"]})
    assert not cal.is_workday(date(2026, 5, 6))
    assert cal.is_workday(date(2026, 3, 7))  # a Saturday the county works
    # 5/1..5/5 劳动节, 5/6 local holiday: from 4/30 the first working day is 5/7.
    assert cal.deadline(bj(2026, 4, 30, 15), parse_time_limit("1工作日")) == bj(2026, 5, 7, 17, 30)
    assert CAL.deadline(bj(2026, 4, 30, 15), parse_time_limit("1工作日")) == bj(2026, 5, 6, 17, 30)


def test_explicit_pack_days_win_over_year_spec_and_unknown_years() -> None:
    cal = WorkCalendar.from_spec({"workdays": ["2027-01-01"], "holidays": ["2027-03-01"],
                                  "years": {2027: YEAR_2027}})
    assert cal.is_workday(date(2027, 1, 1))
    assert not cal.is_workday(date(2027, 3, 1))
    # Without a year spec, explicitly listed days are still answered; other days of the year are not.
    bare = WorkCalendar.from_spec({"holidays": ["2027-03-01"]})
    assert not bare.is_workday(date(2027, 3, 1))
    with pytest.raises(CalendarError):
        bare.is_workday(date(2027, 3, 2))


# ---------------------------------------------------------------------------- workday deadlines

@pytest.mark.parametrize("start, limit, due", [
    # Accepted the day before 国庆: the start day never counts, 10-01..07 are off.
    (bj(2024, 9, 30, 16), "1工作日", bj(2024, 10, 8, 17, 30)),
    (bj(2024, 9, 30, 8), "1工作日", bj(2024, 10, 8, 17, 30)),  # before opening: still not counted
    (bj(2024, 9, 30, 16), "5工作日", bj(2024, 10, 12, 17, 30)),  # lands on make-up Saturday 10-12
    (bj(2024, 9, 30, 16), "6工作日", bj(2024, 10, 14, 17, 30)),
    # Accepted on a rest Saturday: Sunday 09-29 is a make-up working day, so it is day 1.
    (bj(2024, 9, 28, 10), "1工作日", bj(2024, 9, 29, 17, 30)),
    (bj(2024, 9, 28, 10), "2工作日", bj(2024, 9, 30, 17, 30)),
    # Accepted during 国庆.
    (bj(2024, 10, 3, 10), "1工作日", bj(2024, 10, 8, 17, 30)),
    # 春节 2026: Friday 02-13 → make-up Saturday 02-14 → after the holiday 02-24.
    (bj(2026, 2, 13, 10), "1工作日", bj(2026, 2, 14, 17, 30)),
    (bj(2026, 2, 13, 10), "2工作日", bj(2026, 2, 24, 17, 30)),
    (bj(2026, 2, 13, 10), "5工作日", bj(2026, 2, 27, 17, 30)),
    (bj(2026, 2, 13, 10), "6工作日", bj(2026, 2, 28, 17, 30)),  # make-up Saturday 02-28
    # Late in the evening: the start day still does not count, the next working day is day 1.
    (bj(2026, 2, 12, 23, 59), "1工作日", bj(2026, 2, 13, 17, 30)),
])
def test_workday_deadlines(start: datetime, limit: str, due: datetime) -> None:
    assert CAL.deadline(start, parse_time_limit(limit)) == due
    assert CAL.working_time_between(start, due, TimeUnit.WORKDAYS) == parse_time_limit(limit).value


def test_workday_after() -> None:
    assert CAL.workday_after(date(2024, 9, 30)) == date(2024, 10, 8)
    assert CAL.workday_after(date(2024, 9, 30), 5) == date(2024, 10, 12)
    with pytest.raises(ValueError):
        CAL.workday_after(date(2024, 9, 30), 0)


# ---------------------------------------------------------------------------- work-hour deadlines

@pytest.mark.parametrize("start, limit, due", [
    (bj(2024, 10, 8, 10), "1工作时", bj(2024, 10, 8, 11)),
    (bj(2024, 10, 8, 11, 30), "1工作时", bj(2024, 10, 8, 14)),  # spans lunch 12:00-13:30
    (bj(2024, 10, 8, 12, 45), "1工作时", bj(2024, 10, 8, 14, 30)),  # starts during lunch
    (bj(2024, 10, 8, 7, 0), "1工作时", bj(2024, 10, 8, 10)),  # starts before opening
    (bj(2024, 10, 8, 16, 30), "1工作时", bj(2024, 10, 8, 17, 30)),  # exactly to close, not next morning
    (bj(2024, 10, 8, 17), "1工作时", bj(2024, 10, 9, 9, 30)),  # overnight
    (bj(2024, 10, 8, 20), "1工作时", bj(2024, 10, 9, 10)),  # starts after close
    (bj(2024, 10, 8, 9), "7工作时", bj(2024, 10, 8, 17, 30)),  # one full day
    (bj(2024, 10, 8, 9), "7.5工作时", bj(2024, 10, 9, 9, 30)),
    (bj(2024, 10, 8, 10, 0, 30), "0.5工作时", bj(2024, 10, 8, 10, 30, 30)),  # seconds are kept
    # Over 国庆: 09-30 16:00 has 1.5 h left, then nothing until 10-08.
    (bj(2024, 9, 30, 16), "3工作时", bj(2024, 10, 8, 10, 30)),
    (bj(2024, 9, 30, 16), "8.5工作时", bj(2024, 10, 8, 17, 30)),
    (bj(2024, 9, 30, 16), "9工作时", bj(2024, 10, 9, 9, 30)),
    # 春节 2026: make-up Saturday 02-14 is worked, then the holiday.
    (bj(2026, 2, 13, 17), "1工作时", bj(2026, 2, 14, 9, 30)),
    (bj(2026, 2, 14, 17), "1工作时", bj(2026, 2, 24, 9, 30)),
    (bj(2026, 2, 14, 17), "2工作时", bj(2026, 2, 24, 10, 30)),
    # 70 working hours from Friday afternoon = 0.5 h + 9 full days + 6.5 h, and the 9 full days start
    # with make-up Saturday 10-12: 10-12, 10-14 .. 10-18, 10-21 .. 10-23, then 6.5 h on 10-24.
    (bj(2024, 10, 11, 17), "70工作时", bj(2024, 10, 24, 17)),
])
def test_work_hour_deadlines(start: datetime, limit: str, due: datetime) -> None:
    parsed = parse_time_limit(limit)
    assert CAL.deadline(start, parsed) == due
    assert CAL.working_time_between(start, due, TimeUnit.WORK_HOURS) == parsed.value


def test_custom_work_hours_from_spec() -> None:
    cal = WorkCalendar.from_spec({"work_hours": ["08:30-12:00", "14:00-18:00"]})
    assert cal.work_hours == ((time(8, 30), time(12)), (time(14), time(18)))
    assert cal.hours_per_workday == 7.5 and cal.close_of_business == time(18)
    assert cal.deadline(bj(2024, 10, 8, 11), parse_time_limit("2工作时")) == bj(2024, 10, 8, 15)
    assert cal.deadline(bj(2024, 10, 8, 11), parse_time_limit("1工作日")) == bj(2024, 10, 9, 18)
    assert CAL.hours_per_workday == 7.0 and CAL.close_of_business == time(17, 30)


# ---------------------------------------------------------------------------- natural time

@pytest.mark.parametrize("limit, due", [
    ("30分钟", bj(2024, 9, 30, 23, 50)),
    ("2小时", bj(2024, 10, 1, 1, 20)),
    ("1.5小时", bj(2024, 10, 1, 0, 50)),
    ("3自然日", bj(2024, 10, 3, 23, 20)),  # holidays do not matter
])
def test_natural_deadlines(limit: str, due: datetime) -> None:
    start = bj(2024, 9, 30, 23, 20)
    parsed = parse_time_limit(limit)
    assert CAL.deadline(start, parsed) == due
    assert CAL.working_time_between(start, due, parsed.unit) == parsed.value


def test_natural_deadlines_do_not_need_a_known_year() -> None:
    assert CAL.deadline(bj(2030, 1, 1), parse_time_limit("3自然日")) == bj(2030, 1, 4)


# ---------------------------------------------------------------------------- time zones

def test_naive_is_beijing_and_results_are_aware() -> None:
    naive = CAL.deadline(datetime(2024, 10, 8, 11, 30), parse_time_limit("1工作时"))
    assert naive == bj(2024, 10, 8, 14) and naive.tzinfo is SHANGHAI


def test_aware_input_is_converted_to_beijing() -> None:
    # 03:30 UTC = 11:30 Beijing.
    due = CAL.deadline(datetime(2024, 10, 8, 3, 30, tzinfo=timezone.utc), "1工作时")
    assert due == bj(2024, 10, 8, 14) and due.tzinfo is SHANGHAI
    assert due.utcoffset() == timedelta(hours=8)
    # 2024-09-30 17:00 UTC is already 10-01 in Beijing, so the start day is 10-01.
    assert CAL.deadline(datetime(2024, 9, 30, 17, tzinfo=timezone.utc), "1工作日") == bj(2024, 10, 8, 17, 30)
    assert as_shanghai(datetime(2024, 1, 1)).tzinfo is SHANGHAI


def test_deadline_requires_a_datetime() -> None:
    with pytest.raises(TypeError):
        CAL.deadline(date(2024, 10, 8), parse_time_limit("1工作日"))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- elapsed working time

def test_working_time_between() -> None:
    wh, wd = TimeUnit.WORK_HOURS, TimeUnit.WORKDAYS
    assert CAL.working_time_between(bj(2024, 10, 8, 11), bj(2024, 10, 8, 14), wh) == 1.5
    assert CAL.working_time_between(bj(2024, 9, 30, 9), bj(2024, 10, 8, 9), wh) == 7.0
    assert CAL.working_time_between(bj(2024, 10, 1, 9), bj(2024, 10, 7, 18), wh) == 0
    # The start day is not counted in working days; a working day counts once it is closed.
    assert CAL.working_time_between(bj(2024, 10, 8, 9), bj(2024, 10, 8, 17, 30), wd) == 0
    assert CAL.working_time_between(bj(2024, 10, 8, 9), bj(2024, 10, 9, 17, 30), wd) == 1
    assert CAL.working_time_between(bj(2024, 10, 8, 9), bj(2024, 10, 9, 12), wd) == pytest.approx(3 / 7)
    # Overdue measurement after a deadline (超期): 3.5 h into the next working day.
    due = CAL.deadline(bj(2024, 9, 30, 16), parse_time_limit("1工作日"))
    assert CAL.working_time_between(due, bj(2024, 10, 9, 12, 30), wh) == 3.0
    assert CAL.working_time_between(due, bj(2024, 10, 9, 17, 30), wd) == 1
    # Antisymmetric: time remaining before a deadline is negative elapsed time.
    assert CAL.working_time_between(bj(2024, 10, 8, 14), bj(2024, 10, 8, 11), wh) == -1.5
    assert CAL.working_time_between(bj(2024, 10, 8, 14), bj(2024, 10, 8, 14), wd) == 0
    assert CAL.working_time_between(bj(2024, 10, 8), bj(2024, 10, 9), "days") == 1
    assert CAL.working_time_between(bj(2024, 10, 8), bj(2024, 10, 8, 0, 30), "minutes") == 30


def test_is_working_time() -> None:
    assert CAL.is_working_time(bj(2024, 10, 12, 9))  # make-up Saturday
    assert CAL.is_working_time(bj(2024, 10, 8, 17, 30))  # close of business included
    assert not CAL.is_working_time(bj(2024, 10, 8, 12, 30))  # lunch
    assert not CAL.is_working_time(bj(2024, 10, 3, 10))  # 国庆


# ---------------------------------------------------------------------------- spec errors

@pytest.mark.parametrize("spec, path, fragment", [
    ([], (), "映射"),
    ({"holiday": []}, ("holiday",), "未知"),
    ({"work_hours": "09:00-12:00"}, ("work_hours",), "列表"),
    ({"work_hours": []}, ("work_hours",), "至少"),
    ({"work_hours": ["09:00-12:00", "9-17"]}, ("work_hours", 1), "HH:MM"),
    ({"work_hours": ["09:00-12:00", "25:00-26:00"]}, ("work_hours", 1), "无效"),
    ({"work_hours": ["12:00-09:00"]}, ("work_hours", 0), "晚于"),
    ({"work_hours": ["22:00-06:00"]}, ("work_hours", 0), "跨午夜"),
    ({"work_hours": ["09:00-12:00", "11:00-17:00"]}, ("work_hours", 1), "重叠"),
    ({"work_hours": ["13:30-17:30", "09:00-12:00"]}, ("work_hours", 1), "顺序"),
    ({"holidays": ["2026-05-06", "2026-13-01"]}, ("holidays", 1), "YYYY-MM-DD"),
    ({"holidays": [datetime(2026, 5, 6, 10)]}, ("holidays", 0), "时刻"),
    ({"workdays": [20260506]}, ("workdays", 0), "YYYY-MM-DD"),
    ({"holidays": ["2026-05-06"], "workdays": ["2026-03-07", "2026-05-06"]}, ("workdays", 1), "同时"),
    ({"years": [2027]}, ("years",), "映射"),
    ({"years": {"twenty": YEAR_2027}}, ("years", "twenty"), "年份"),
    ({"years": {27: YEAR_2027}}, ("years", 27), "年份"),
    ({"years": {2027: ["2027-01-01"]}}, ("years", 2027), "映射"),
    ({"years": {2027: {}}}, ("years", 2027, "holidays"), "节假日"),
    ({"years": {2027: {"holidays": [], "workdays": []}}}, ("years", 2027, "holidays"), "节假日"),
    ({"years": {2027: {"holidays": ["2027-01-01"], "extra": 1}}}, ("years", 2027, "extra"), "未知"),
    ({"years": {2027: {"holidays": ["2027-01-01", "2028-01-01"]}}}, ("years", 2027, "holidays", 1), "不属于"),
    ({"years": {2027: {"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}}},
     ("years", 2027, "workdays", 0), "同时"),
    ({"years": {2027: YEAR_2027, "2027": YEAR_2027}}, ("years", "2027"), "重复"),
])
def test_bad_specs(spec: object, path: tuple[object, ...], fragment: str) -> None:
    with pytest.raises(CalendarError) as caught:
        WorkCalendar.from_spec(spec)  # type: ignore[arg-type]
    error = caught.value
    assert error.code == "BAD_CALENDAR" and isinstance(error, ValueError)
    assert error.path == path
    assert fragment in error.message


def test_error_path_prefix_for_the_pack_loader() -> None:
    with pytest.raises(CalendarError) as caught:
        WorkCalendar.from_spec({"holidays": ["May 6"]}, path=("calendar",))
    assert caught.value.path == ("calendar", "holidays", 0)
    assert "calendar.holidays.0" in str(caught.value)


def test_direct_construction_is_validated() -> None:
    with pytest.raises(CalendarError) as caught:
        WorkCalendar(years={2027: YearSpec(frozenset({date(2028, 1, 1)}))})
    assert caught.value.path == ("years", 2027, "holidays")
    with pytest.raises(CalendarError):
        WorkCalendar(holidays=frozenset({date(2026, 5, 6)}), workdays=frozenset({date(2026, 5, 6)}))
    with pytest.raises(CalendarError):
        YearSpec(frozenset({date(2027, 1, 1)}), frozenset({date(2027, 1, 1)}))


def test_from_spec_defaults_and_value_semantics() -> None:
    assert WorkCalendar.from_spec(None) == CAL == WorkCalendar.from_spec({})
    spec = {"holidays": ["2026-05-06"], "years": {2027: YEAR_2027}}
    a, b = WorkCalendar.from_spec(spec), WorkCalendar.from_spec(spec)
    assert a == b and hash(a) == hash(b) and a != CAL
    years = {2027: a.years[2027]}
    c = WorkCalendar(years=years)
    years.clear()  # the calendar keeps its own copy
    assert 2027 in c.years
    with pytest.raises(TypeError):
        c.years[2028] = a.years[2027]  # type: ignore[index]


def test_large_limits_are_fast() -> None:
    started = clock.perf_counter()
    for hour in range(200):
        CAL.deadline(bj(2005, 1, 1) + timedelta(hours=hour * 97), TimeLimit(250, TimeUnit.WORKDAYS))
        CAL.deadline(bj(2005, 1, 1) + timedelta(hours=hour * 97), TimeLimit(1500, TimeUnit.WORK_HOURS))
    assert clock.perf_counter() - started < 2.0


# ---------------------------------------------------------------------------- properties

CALENDARS = [
    CAL,
    WorkCalendar.from_spec({"work_hours": ["08:00-18:00"], "holidays": ["2024-10-08"], "workdays": ["2024-10-05"]}),
    WorkCalendar.from_spec({"work_hours": ["08:30-11:30", "12:00-12:15", "14:00-17:45"]}),
    WorkCalendar.from_spec({"years": {2027: YEAR_2027}}),
]

starts = st.datetimes(min_value=datetime(2004, 1, 1), max_value=datetime(2025, 12, 31, 23, 59, 59))
zones = st.sampled_from([None, SHANGHAI, timezone.utc, timezone(timedelta(hours=-5))])
calendars = st.sampled_from(CALENDARS)
workdays = st.integers(min_value=1, max_value=200).map(lambda n: TimeLimit(n, TimeUnit.WORKDAYS))
work_hours = st.integers(min_value=1, max_value=400 * 60).map(lambda m: TimeLimit(m / 60, TimeUnit.WORK_HOURS))
work_limits = st.one_of(workdays, work_hours)
natural_limits = st.builds(TimeLimit, st.integers(min_value=1, max_value=500),
                           st.sampled_from([TimeUnit.MINUTES, TimeUnit.HOURS, TimeUnit.DAYS]))

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _zoned(moment: datetime, zone: timezone | None) -> datetime:
    return moment if zone is None else moment.replace(tzinfo=SHANGHAI).astimezone(zone)


@PROPERTY
@given(calendars, starts, zones, work_limits)
def test_deadline_lands_in_working_time(cal: WorkCalendar, start: datetime, zone: timezone | None,
                                        limit: TimeLimit) -> None:
    due = cal.deadline(_zoned(start, zone), limit)
    assert due.tzinfo is SHANGHAI
    assert due > as_shanghai(start)
    assert cal.is_working_time(due)
    if limit.unit is TimeUnit.WORKDAYS:
        assert due.time() == cal.close_of_business
        assert due.date() > start.date()


@PROPERTY
@given(calendars, starts, zones, st.one_of(work_limits, natural_limits))
def test_round_trip_with_working_time_between(cal: WorkCalendar, start: datetime, zone: timezone | None,
                                              limit: TimeLimit) -> None:
    start = _zoned(start, zone)
    due = cal.deadline(start, limit)
    assert cal.working_time_between(start, due, limit.unit) == limit.value
    assert cal.working_time_between(due, start, limit.unit) == -limit.value


@PROPERTY
@given(calendars, starts, st.sampled_from(list(TimeUnit)), st.integers(1, 150), st.integers(1, 150))
def test_deadline_is_monotonic_in_value(cal: WorkCalendar, start: datetime, unit: TimeUnit, a: int,
                                        b: int) -> None:
    assume(a != b)
    small, large = sorted((a, b))
    assert cal.deadline(start, TimeLimit(small, unit)) < cal.deadline(start, TimeLimit(large, unit))


@PROPERTY
@given(calendars, starts, work_limits, st.integers(min_value=0, max_value=400 * 60))
def test_deadline_is_monotonic_in_start(cal: WorkCalendar, start: datetime, limit: TimeLimit,
                                        later_by: int) -> None:
    later = start + timedelta(minutes=later_by)
    assert cal.deadline(start, limit) <= cal.deadline(later, limit)


@PROPERTY
@given(calendars, starts, st.integers(0, 30 * 24 * 60), st.integers(0, 30 * 24 * 60))
def test_working_hours_are_additive(cal: WorkCalendar, start: datetime, first: int, second: int) -> None:
    middle = start + timedelta(minutes=first)
    end = middle + timedelta(minutes=second)
    wh = TimeUnit.WORK_HOURS
    total = cal.working_time_between(start, end, wh)
    assert total == pytest.approx(cal.working_time_between(start, middle, wh)
                                  + cal.working_time_between(middle, end, wh), abs=1e-9)
    assert 0 <= total <= (first + second) / 60


def _reference_work_hour_deadline(cal: WorkCalendar, start: datetime, minutes: int) -> datetime:
    """Minute-by-minute oracle for work-hour deadlines (start on a whole minute)."""
    moment, left = as_shanghai(start), minutes
    while True:
        step = moment + timedelta(minutes=1)
        if cal.is_workday(moment.date()) and any(
                datetime.combine(moment.date(), lo, SHANGHAI) <= moment
                and step <= datetime.combine(moment.date(), hi, SHANGHAI) for lo, hi in cal.work_hours):
            left -= 1
            if left == 0:
                return step
        moment = step


@settings(max_examples=60, deadline=None)
@given(calendars, starts.map(lambda d: d.replace(second=0, microsecond=0)), st.integers(1, 20 * 60))
def test_work_hour_deadline_matches_minute_by_minute_oracle(cal: WorkCalendar, start: datetime,
                                                            minutes: int) -> None:
    limit = TimeLimit(minutes / 60, TimeUnit.WORK_HOURS)
    assert cal.deadline(start, limit) == _reference_work_hour_deadline(cal, start, minutes)


@settings(max_examples=100, deadline=None)
@given(calendars, st.dates(min_value=date(2004, 1, 1), max_value=date(2025, 12, 31)), st.integers(1, 60))
def test_workday_deadline_matches_day_by_day_oracle(cal: WorkCalendar, day: date, n: int) -> None:
    found, probe = 0, day
    while found < n:
        probe += timedelta(days=1)
        found += cal.is_workday(probe)
    due = cal.deadline(datetime.combine(day, time(10)), TimeLimit(n, TimeUnit.WORKDAYS))
    assert due == datetime.combine(probe, cal.close_of_business, SHANGHAI)
