"""Scores: hand-computed totals, explanation lines that sum to the score, appeals, rankings opt-in, flags."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from wangge.core.cli import cli
from wangge.core.scoring import (AppealError, file_appeal, find_flags, import_inputs, parse_period, score,
                                 withdraw_appeal)
from wangge.core.scoring.inputs import InputRow

from .conftest import FIXTURES, MARCH, TENANT, load, tianmen

MAR = parse_period("2026-03")


def g2(h):  # type: ignore[no-untyped-def]
    """网格二: 10 应结案, 6 on time, 2 closed late, 2 open past due; 4 registered; 1 rework (0.2 off)."""
    due = MARCH + timedelta(days=5)
    ids = {"on_time": [], "late": [], "open": []}
    for i in range(10):
        kind = "on_time" if i < 6 else "late" if i < 8 else "open"
        closed = due - timedelta(hours=1) if kind == "on_time" else due + timedelta(hours=3) if kind == "late" else None
        extra = (("reworked", MARCH + timedelta(days=1)),) if i == 0 else ()
        ids[kind].append(h.case("G2", due=due, closed=closed, registered=i < 4, extra=extra))
    h.flush()
    return ids


def one(scores, subject, scheme="hecun_monthly"):  # type: ignore[no-untyped-def]
    return next(s for s in scores if s.subject == subject and s.scheme == scheme)


def test_hecun_monthly_100_is_50_30_20_with_bonus_cap(history):
    h = history
    tianmen(h)
    g2(h)
    pack = load("hecun")
    import_inputs(h.db, TENANT, pack, MAR, "satisfaction", [InputRow("G1", "survey", 90.0)], "tester")
    scores = score(h.db, TENANT, pack, MAR, "grid")
    s1 = one(scores, "G1")
    # 按期 75.82% ≥ 70% → 50;结案率 911/972 × 30;满意度 90/100 × 20 = 18;上报加分 972 × 0.5 → cap 10
    assert s1.total == pytest.approx(50 + 30 * 911 / 972 + 18 + 10, abs=1e-3)
    assert s1.bonus == 10 and s1.star == "五星"
    s2 = one(scores, "G2")
    # 按期 60% → 50 − 10 × 1 = 40, 返工 −0.2;结案 8/10 × 30 = 24;无满意度 → 0;加分 4 × 0.5 = 2
    assert s2.total == pytest.approx(39.8 + 24 + 0 + 2, abs=1e-6)
    assert s2.star is None
    g3 = one(scores, "G3")   # nothing due: no failure, full points for the indicator rules
    assert g3.total == pytest.approx(50 + 30)


def test_every_point_is_explained(history):
    h = history
    tianmen(h)
    ids = g2(h)
    scores = score(h.db, TENANT, load("hecun"), MAR, "grid")
    for s in scores:
        assert round(sum(ln.points for ln in s.lines), 4) == s.total
    s2 = one(scores, "G2")
    lines = {ln.rule: ln for ln in s2.lines}
    assert set(lines["yunzuo/anqi"].case_ids) == set(ids["late"] + ids["open"])   # the cases that cost points
    assert lines["yunzuo/anqi"].inputs["definition"] == "按期结案率 = 按期结案(closed_on_time) / 应结案(due)"
    assert lines["yunzuo/fangong"].case_ids == (ids["on_time"][0],) and lines["yunzuo/fangong"].points == -0.2
    assert lines["bonus/lian"].points == 2 and len(lines["bonus/lian"].case_ids) == 4
    s1 = one(scores, "G1")
    cap = next(ln for ln in s1.lines if ln.rule == "bonus/cap")
    assert cap.points == pytest.approx(10 - 972 * 0.5)


def test_appeals_exclude_and_rejudge_recompute(history):
    h = history
    ids = g2(h)
    pack = load("hecun")

    def anqi():  # type: ignore[no-untyped-def]
        s = one(score(h.db, TENANT, pack, MAR, "grid"), "G2")
        return next(ln for ln in s.lines if ln.rule == "yunzuo/anqi"), s

    line, _ = anqi()
    assert (line.inputs["numerator"], line.inputs["denominator"]) == (6, 10) and line.points == 40
    excluded = file_appeal(h.db, TENANT, ids["late"][0], "exclude", "县委政法委", "暴雨停工,不可抗力")
    line, s = anqi()
    assert (line.inputs["numerator"], line.inputs["denominator"]) == (6, 9)
    assert line.points == pytest.approx(50 - (70 - 600 / 9))
    assert any("暴雨停工" in a for a in s.appeals)
    file_appeal(h.db, TENANT, ids["late"][1], "rejudge", "县委政法委", "系统时钟错误,实际按期", add=["closed_on_time"])
    line, _ = anqi()
    assert (line.inputs["numerator"], line.inputs["denominator"]) == (7, 9)
    assert ids["late"][1] not in line.case_ids and ids["late"][0] not in line.case_ids
    withdraw_appeal(h.db, TENANT, excluded.id)
    line, _ = anqi()
    assert (line.inputs["numerator"], line.inputs["denominator"]) == (7, 10) and line.points == 50
    file_appeal(h.db, TENANT, ids["on_time"][0], "rejudge", "政法委", "返工系误判", remove=["reworked"])
    s = one(score(h.db, TENANT, pack, MAR, "grid"), "G2")
    assert next(ln for ln in s.lines if ln.rule == "yunzuo/fangong").points == 0
    with pytest.raises(AppealError):
        file_appeal(h.db, TENANT, "no-such-case", "exclude", "x", "y")
    with pytest.raises(AppealError):
        file_appeal(h.db, TENANT, ids["open"][0], "rejudge", "x", "y", add=["bogus"])


def test_rankings_are_off_by_default_and_explained_when_on(history):
    h = history
    tianmen(h)
    g2(h)
    off = score(h.db, TENANT, load("hecun"), MAR, "grid")
    assert all(s.rank is None and not s.rank_note for s in off)
    on = score(h.db, TENANT, load("hecun_huanban"), MAR, "grid")
    assert [s.rank for s in on] == [1, 2, 3] and "第 1 名" in on[0].rank_note


def test_mutual_rating_counts_only_the_declared_raters(history):
    h = history
    due = MARCH + timedelta(days=5)
    h.case("G1", due=due, closed=due - timedelta(hours=1), lead="d1")
    h.flush()
    pack = load("hecun")
    import_inputs(h.db, TENANT, pack, MAR, "rating",
                  [InputRow("d1", "T1", 80), InputRow("d1", "T2", 100), InputRow("d1", "G1", 0)], "tester")
    d1 = one(score(h.db, TENANT, pack, MAR, "department"), "d1", "dept")
    rating = next(ln for ln in d1.lines if ln.rule == "ping/rating")
    assert rating.inputs["values"] == {"T1": 80, "T2": 100} and rating.points == pytest.approx(36)
    assert d1.total == pytest.approx(60 + 36)


def test_flags_find_gaming_patterns(history):
    h = history
    due = MARCH + timedelta(days=5)
    loop = h.case("G1", due=due, closed=MARCH + timedelta(minutes=10), reporter="w9", closer="w9")
    a = h.case("G3", reported=MARCH + timedelta(hours=2), cls="szhj_laji")
    b = h.case("G3", reported=MARCH + timedelta(hours=2, minutes=20), cls="szhj_laji")
    h.case("G3", reported=MARCH + timedelta(hours=9), cls="szhj_laji")
    bulk = [h.case("G2", reported=MARCH + timedelta(hours=3 * i), due=due, closed=due - timedelta(minutes=30 + i), lead="d2") for i in range(5)]
    h.flush()
    flags = find_flags(h.db, TENANT, load("hecun"), MAR)
    kinds = {(f.kind, f.subject): f for f in flags}
    assert kinds[("self_close", "w9")].case_ids == (loop,)
    assert kinds[("duplicate", "G3")].case_ids == (a, b)
    assert set(kinds[("bulk_deadline", "d2")].case_ids) == set(bulk)
    assert len(flags) == 3


def test_cli_score_explain_json_and_appeal(history, tmp_path):
    h = history
    ids = g2(h)
    url = h.db.url
    runner = CliRunner()
    pack = str(FIXTURES / "hecun")
    r = runner.invoke(cli, ["score", pack, "--db", url, "--tenant", TENANT, "--period", "2026-03", "--level", "grid",
                            "--explain"])
    assert r.exit_code == 0, r.output
    assert "排名未开启" in r.output and "yunzuo/anqi" in r.output and ids["late"][0] in r.output
    r = runner.invoke(cli, ["score", "appeal", ids["late"][0], "--db", url, "--tenant", TENANT, "--exclude",
                            "--by", "政法委", "--reason", "不可抗力"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["score", pack, "--db", url, "--tenant", TENANT, "--period", "2026-03", "--json"])
    data = json.loads(r.output)
    g = next(s for s in data["scores"] if s["subject"] == "G2")
    assert g["appeals"] and round(sum(ln["points"] for ln in g["lines"]), 4) == g["total"]
    r = runner.invoke(cli, ["indicators", pack, "--db", url, "--tenant", TENANT, "--period", "2026-03",
                            "--level", "grid"])
    assert r.exit_code == 0 and "口径 结案率 = 结案(closed) / 应结案(due)" in r.output
    survey = tmp_path / "survey.csv"
    survey.write_text("subject,value\nG2,80\n", encoding="utf-8")
    r = runner.invoke(cli, ["score", "import-satisfaction", pack, str(survey), "--db", url, "--tenant", TENANT,
                            "--period", "2026-03"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["score", "flags", pack, "--db", url, "--tenant", TENANT, "--period", "2026-03"])
    assert r.exit_code == 0, r.output
