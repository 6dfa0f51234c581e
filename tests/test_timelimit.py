"""Parsing and validation of time limits (处置时限)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wangge.core.timelimit import TimeLimit, TimeLimitError, TimeUnit, parse_time_limit

U = TimeUnit


def test_units_have_chinese_names() -> None:
    assert [(u.value, u.zh) for u in TimeUnit] == [
        ("minutes", "分钟"), ("hours", "小时"), ("work_hours", "工作时"), ("workdays", "工作日"), ("days", "自然日")]
    assert TimeUnit("workdays") is U.WORKDAYS and U.WORKDAYS == "workdays"
    assert [u for u in TimeUnit if u.is_working] == [U.WORK_HOURS, U.WORKDAYS]


@pytest.mark.parametrize("text, value, unit", [
    # every unit in Chinese
    ("30分钟", 30, U.MINUTES),
    ("2小时", 2, U.HOURS),
    ("4工作时", 4, U.WORK_HOURS),
    ("4工作小时", 4, U.WORK_HOURS),
    ("5工作日", 5, U.WORKDAYS),
    ("3自然日", 3, U.DAYS),
    # spacing, the classifier 个, full-width digits and spaces
    ("5 工作日", 5, U.WORKDAYS),
    ("  5工作日 ", 5, U.WORKDAYS),
    ("5个工作日", 5, U.WORKDAYS),
    ("5 个 工作日", 5, U.WORKDAYS),
    ("２个小时", 2, U.HOURS),
    ("５\u3000工作日", 5, U.WORKDAYS),
    # every unit in English, singular and plural, with and without space
    ("30 minutes", 30, U.MINUTES),
    ("1 minute", 1, U.MINUTES),
    ("45min", 45, U.MINUTES),
    ("2 hours", 2, U.HOURS),
    ("1hour", 1, U.HOURS),
    ("1 work_hour", 1, U.WORK_HOURS),
    ("8 work_hours", 8, U.WORK_HOURS),
    ("8 work hours", 8, U.WORK_HOURS),
    ("8 Working-Hours", 8, U.WORK_HOURS),
    ("5 workdays", 5, U.WORKDAYS),
    ("5workdays", 5, U.WORKDAYS),
    ("1 workday", 1, U.WORKDAYS),
    ("5 working days", 5, U.WORKDAYS),
    ("3 days", 3, U.DAYS),
    ("1 day", 1, U.DAYS),
    ("3 natural days", 3, U.DAYS),
    # fractions where they make sense; whole decimals become ints
    ("1.5小时", 1.5, U.HOURS),
    ("0.5 hours", 0.5, U.HOURS),
    ("3.5工作时", 3.5, U.WORK_HOURS),
    ("0.25 work_hours", 0.25, U.WORK_HOURS),
    ("5.0工作日", 5, U.WORKDAYS),
    ("+2小时", 2, U.HOURS),
])
def test_parse(text: str, value: float, unit: TimeUnit) -> None:
    limit = parse_time_limit(text)
    assert limit == TimeLimit(value, unit)
    assert limit.value == value and type(limit.value) is type(value)
    assert limit.unit is unit


@pytest.mark.parametrize("limit, text", [
    (TimeLimit(5, U.WORKDAYS), "5工作日"),
    (TimeLimit(5.0, U.WORKDAYS), "5工作日"),
    (TimeLimit(30, U.MINUTES), "30分钟"),
    (TimeLimit(1.5, U.HOURS), "1.5小时"),
    (TimeLimit(0.25, U.WORK_HOURS), "0.25工作时"),
    (TimeLimit(3, U.DAYS), "3自然日"),
])
def test_str_round_trips(limit: TimeLimit, text: str) -> None:
    assert str(limit) == text
    assert parse_time_limit(str(limit)) == limit


def test_time_limit_is_frozen_and_accepts_unit_names() -> None:
    limit = TimeLimit(2, "hours")  # type: ignore[arg-type]
    assert limit.unit is U.HOURS and limit.minutes == 120
    with pytest.raises(dataclasses.FrozenInstanceError):
        limit.value = 3  # type: ignore[misc]
    assert parse_time_limit(limit) is limit
    assert TimeLimit(1.5, U.WORK_HOURS).minutes == 90
    with pytest.raises(ValueError):
        _ = TimeLimit(2, U.WORKDAYS).minutes


@pytest.mark.parametrize("text", ["5 fortnights", "5周", "5 weeks", "3 月", "5 工作", "5 work"])
def test_unknown_unit(text: str) -> None:
    with pytest.raises(TimeLimitError) as caught:
        parse_time_limit(text)
    error = caught.value
    assert error.code == "UNKNOWN_TIME_UNIT"
    # The message lists the valid units in Chinese and English.
    for unit in TimeUnit:
        assert unit.zh in error.message and unit.value in error.message
    assert error.hint


@pytest.mark.parametrize("text, choices", [
    ("3天", ("工作日", "自然日")),
    ("3日", ("工作日", "自然日")),
    ("3d", ("workdays", "days")),
    ("2h", ("工作时", "小时")),
])
def test_ambiguous_unit_names_the_choices(text: str, choices: tuple[str, str]) -> None:
    with pytest.raises(TimeLimitError) as caught:
        parse_time_limit(text)
    assert caught.value.code == "UNKNOWN_TIME_UNIT"
    assert "歧义" in caught.value.message
    assert all(c in caught.value.message for c in choices)


@pytest.mark.parametrize("value", [5, 2.5])
def test_bare_number_lacks_a_unit(value: float) -> None:
    with pytest.raises(TimeLimitError) as caught:
        parse_time_limit(value)
    assert caught.value.code == "UNKNOWN_TIME_UNIT"
    assert "缺少单位" in caught.value.message and "工作日" in caught.value.message


def test_unit_without_number_text() -> None:
    with pytest.raises(TimeLimitError) as caught:
        parse_time_limit("5")
    assert caught.value.code == "UNKNOWN_TIME_UNIT"


@pytest.mark.parametrize("text, fragment", [
    ("0工作日", "大于零"),
    ("0.0小时", "大于零"),
    ("-3工作日", "大于零"),
    ("工作日", "缺少数值"),
    ("", "缺少数值"),
    ("五个工作日", "缺少数值"),
    ("abc", "缺少数值"),
    ("0.5工作日", "整数"),
    ("1.5自然日", "整数"),
    ("2.5分钟", "整数"),
    ("0.01小时", "整分钟"),
    ("1.001工作时", "整分钟"),
    ("99999工作日", "过长"),
])
def test_bad_time_limit(text: str, fragment: str) -> None:
    with pytest.raises(TimeLimitError) as caught:
        parse_time_limit(text)
    error = caught.value
    assert error.code == "BAD_TIME_LIMIT"
    assert fragment in error.message
    assert isinstance(error, ValueError) and error.hint
    assert error.code in str(error)


@pytest.mark.parametrize("bad", [None, True, ["5工作日"], {"A": "5工作日"}])
def test_bad_types(bad: object) -> None:
    with pytest.raises(TimeLimitError) as caught:
        parse_time_limit(bad)  # type: ignore[arg-type]
    assert caught.value.code == "BAD_TIME_LIMIT"


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), True, "5"])
def test_time_limit_constructor_validates(value: object) -> None:
    with pytest.raises(TimeLimitError) as caught:
        TimeLimit(value, U.HOURS)  # type: ignore[arg-type]
    assert caught.value.code == "BAD_TIME_LIMIT"


def test_time_limit_constructor_rejects_unknown_unit() -> None:
    with pytest.raises(TimeLimitError) as caught:
        TimeLimit(3, "weeks")  # type: ignore[arg-type]
    assert caught.value.code == "UNKNOWN_TIME_UNIT"


@given(st.integers(min_value=1, max_value=3000), st.sampled_from(list(TimeUnit)))
def test_whole_values_round_trip(value: int, unit: TimeUnit) -> None:
    for text in (f"{value}{unit.zh}", f"{value} {unit.value}"):
        limit = parse_time_limit(text)
        assert limit == TimeLimit(value, unit)
        assert parse_time_limit(str(limit)) == limit


@given(st.integers(min_value=1, max_value=10_000), st.sampled_from([U.HOURS, U.WORK_HOURS]))
def test_fractional_hours_in_whole_minutes_round_trip(minutes: int, unit: TimeUnit) -> None:
    limit = TimeLimit(minutes / 60, unit)
    assert limit.minutes == minutes
    assert parse_time_limit(str(limit)) == limit
