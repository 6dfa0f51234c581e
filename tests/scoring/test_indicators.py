"""Indicator definitions against hand-computed fixtures, including the published 天门 figures."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from wangge.core.pack.problems import PackError
from wangge.core.scoring import compute_indicators, parse_period
from wangge.core.scoring.period import PeriodError
from wangge.core.workcal import SHANGHAI

from .conftest import FIXTURES, MARCH, TENANT, load, tianmen

MAR = parse_period("2026-03")


def by(values, indicator, subject):  # type: ignore[no-untyped-def]
    return next(v for v in values if v.indicator == indicator and v.subject == subject)


def test_tianmen_published_figures(history):
    tianmen(history)
    values = compute_indicators(history.db, TENANT, load("hecun"), MAR, level="grid")
    jiean, anqi = by(values, "jiean_rate", "G1"), by(values, "anqi_jiean_rate", "G1")
    assert (jiean.numerator, jiean.denominator) == (911, 972)
    assert (anqi.numerator, anqi.denominator) == (737, 972)
    assert (jiean.display(), anqi.display()) == ("93.72%", "75.82%")
    assert by(values, "chaoqi_count", "G1").numerator == 174 + 61
    assert by(values, "anqi_chuzhi_rate", "G1").display() == f"{737 / 911 * 100:.2f}%"
    assert by(values, "shangbao_count", "G1").value == 972
    # the report states the definition it used
    assert jiean.definition == "结案率 = 结案(closed) / 应结案(due)"


def test_rollup_follows_the_tree_not_code_prefixes(history):
    h = history
    due = MARCH + timedelta(days=5)
    h.case("G1", due=due, closed=due - timedelta(days=1))
    h.case("G2", due=due, closed=due + timedelta(days=1))
    h.case("G3", due=due)
    h.flush()
    pack = load("hecun")
    town = compute_indicators(h.db, TENANT, pack, MAR, level="township", indicators=["anqi_jiean_rate"])
    assert [(v.subject, v.numerator, v.denominator) for v in town] == [("T1", 1, 2), ("T2", 0, 1)]
    top = compute_indicators(h.db, TENANT, pack, MAR, indicators=["jiean_rate"])
    assert [(v.subject, v.numerator, v.denominator) for v in top] == [("9000", 2, 3)]
    only = compute_indicators(h.db, TENANT, pack, MAR, ["V7"], indicators=["jiean_rate"])
    assert [(v.subject, v.level, v.numerator) for v in only] == [("V7", "village", 2)]


def test_periods_select_facts_by_their_own_time(history):
    h = history
    h.case("G1", reported=datetime(2026, 2, 27, 10, tzinfo=SHANGHAI), due=datetime(2026, 3, 3, 17, tzinfo=SHANGHAI),
           closed=datetime(2026, 3, 2, 10, tzinfo=SHANGHAI))
    h.case("G1", reported=datetime(2026, 3, 30, 10, tzinfo=SHANGHAI), due=datetime(2026, 4, 3, 17, tzinfo=SHANGHAI))
    h.flush()
    pack = load("hecun")
    march = {v.indicator: v for v in compute_indicators(h.db, TENANT, pack, MAR, ["G1"])}
    assert march["shangbao_count"].numerator == 1        # reported in March
    assert march["jiean_rate"].denominator == 1          # due in March
    q1 = {v.indicator: v for v in compute_indicators(h.db, TENANT, pack, parse_period("2026-Q1"), ["G1"])}
    assert q1["shangbao_count"].numerator == 2
    custom = compute_indicators(h.db, TENANT, pack, parse_period("2026-02-01..2026-02-28"), ["G1"])
    assert {v.indicator: v.numerator for v in custom}["shangbao_count"] == 1
    with pytest.raises(PeriodError):
        parse_period("March")


def test_definition_change_excluding_huanban_is_stated(history):
    h = history
    due = MARCH + timedelta(days=5)
    h.case("G1", due=due, closed=due - timedelta(hours=1))
    h.case("G1", due=due, state="suspended")   # 缓办
    h.case("G1", due=due)
    h.flush()
    base = by(compute_indicators(h.db, TENANT, load("hecun"), MAR, level="grid"), "jiean_rate", "G1")
    changed = by(compute_indicators(h.db, TENANT, load("hecun_huanban"), MAR, level="grid"), "jiean_rate", "G1")
    assert (base.numerator, base.denominator) == (1, 3)
    assert (changed.numerator, changed.denominator) == (1, 2)
    assert "过滤: ${state} != 'suspended'" in changed.definition and "过滤" not in base.definition


def test_department_subjects_group_by_lead(history):
    h = history
    due = MARCH + timedelta(days=5)
    h.case("G1", due=due, closed=due - timedelta(hours=1), lead="d1")
    h.case("G3", due=due, lead="d2")
    h.flush()
    values = compute_indicators(h.db, TENANT, load("hecun"), MAR, level="department", indicators=["anqi_jiean_rate"])
    assert [(v.subject, v.numerator, v.denominator) for v in values] == [("d1", 1, 1), ("d2", 0, 1)]


def test_a_where_that_sql_cannot_compute_is_refused_at_load(tmp_path):
    (tmp_path / "pack.yaml").write_text(
        (FIXTURES / "hecun_huanban" / "pack.yaml").read_text(encoding="utf-8").replace(
            "${state} != 'suspended'", "len(${state}) > 2", 1), encoding="utf-8")
    with pytest.raises(PackError) as err:
        load(str(tmp_path))
    (problem,) = err.value.problems
    assert problem.code == "BAD_EXPRESSION" and "第 1 列" in problem.message
    (tmp_path / "pack.yaml").write_text((tmp_path / "pack.yaml").read_text(encoding="utf-8").replace(
        "len(${state}) > 2", "${people} > 2"), encoding="utf-8")
    with pytest.raises(PackError) as err:
        load(str(tmp_path))
    assert "people" in err.value.problems[0].message


def test_where_is_null_safe_like_the_expression_language(history):
    h = history
    due = MARCH + timedelta(days=5)
    h.case("G1", due=due, lead=None)
    h.case("G1", due=due, lead="d1")
    h.flush()
    from wangge.core.expr import compile_expression
    from wangge.core.pack.model import FactCount
    from wangge.core.scoring.indicators import open_counter

    with h.db.engine.connect() as conn:
        counter = open_counter(conn, TENANT, MAR)
        for src, expected in (("${lead} != 'd1'", 1), ("${lead} == null", 1), ("not (${lead} == 'd1')", 1),
                              ("${lead} in ['d1', 'd2']", 1), ("${lead} not in ['d2']", 2)):
            fc = FactCount("due", compile_expression(src), src)
            assert sum(counter.counts(fc).values()) == expected, src


def test_the_scheme_in_the_docs_loads(tmp_path):
    import re
    import shutil

    text = (FIXTURES.parents[2] / "docs" / "scoring.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml title=scoring.yaml\n(.*?)```", text, re.S).group(1)
    shutil.copy(FIXTURES / "hecun" / "pack.yaml", tmp_path / "pack.yaml")
    (tmp_path / "scoring.yaml").write_text(block, encoding="utf-8")
    pack = load(str(tmp_path))
    scheme = pack.scoring.schemes["hecun_monthly"]
    assert [c.max for c in scheme.components] == [50, 30, 20] and scheme.bonus_cap == 10
    assert pack.scoring.ranking is False
