"""A comparison's indicators and scores come from the scoring engine over the replay's fact rows: the same
numbers the engine gives when it counts those rows itself, and facts a replay cannot produce stay 0."""
from __future__ import annotations

from wangge.core.compare import compare_packs
from wangge.core.compare.rates import Rates
from wangge.core.compare.replay import replay, shared_inputs
from wangge.core.compare.scoring import counter_for
from wangge.core.scoring import MemoryCounter, indicator_values, score_with
from wangge.examples import COUNTIES


def test_scores_for_packs_with_scoring(loader, pengli, stream) -> None:
    yangqu = loader.load(COUNTIES / "taiyuan-yangqu")
    report = compare_packs([pengli, yangqu], stream.events, workers=1)
    by_label = {m["pack"]: m for m in report.models}
    p, y = by_label["cn.sd.binzhou.pengli"], by_label["cn.sx.taiyuan.yangqu"]
    assert [s["id"] for s in p["scores"]["schemes"]] == ["grid_auto"]
    assert [s["id"] for s in y["scores"]["schemes"]] == ["xinji", "aixin_jifen"]
    xinji, aixin = y["scores"]["schemes"]
    assert xinji["subjects"] == len(yangqu.grid.units_at("grid")) and "top" not in xinji   # ranking off
    assert aixin["subjects"] == 0        # scored by reporter: the replay has no people
    assert sum(xinji["stars"].values()) == xinji["subjects"]
    for m in (p, y):
        ind = {v["id"]: v for v in m["indicators"]}
        assert ind["jiean_rate"]["denominator"] == m["facts"]["due"]
        assert ind["jiean_rate"]["definition"] == "结案率 = 结案(closed) / 应结案(due)"
        assert m["facts"].get("reworked", 0) == 0 and ind["fangong_rate"]["numerator"] == 0   # never reworked
        assert m["facts"]["reported"] == len(stream.events) - sum(m["routing_errors"].values())
        # 超期 as the engine derives it from the 应结案 rows is the replay's own "missed its deadline"
        assert m["facts"].get("overdue", 0) == m["deadline_missed"]


def test_report_equals_the_engine_on_the_rows(pengli, stream) -> None:
    rates = Rates()
    shared = shared_inputs(stream.events, pengli.reference, rates)
    run = replay(pengli, "p", stream.events, shared, rates)
    counter = counter_for(run)
    # rebuilt from a flat list of the same rows: the same counter, the same answers
    flat = [row for rows in run.fact_rows.values() for row in rows]
    again = MemoryCounter.from_rows(flat, run.period, run.horizon, axis=run.epoch)
    assert indicator_values(counter, pengli, "grid") == indicator_values(again, pengli, "grid")
    scores = score_with(counter, pengli, "grid", explain=True)
    assert scores == score_with(again, pengli, "grid", explain=True)
    for s in scores:
        assert round(sum(line.points for line in s.lines), 4) == s.total
    # every case has exactly one 应结案 row, with its deadline, and escalations only on late cases
    due_ids = [r[0] for r in run.fact_rows["due"]]
    assert len(due_ids) == len(set(due_ids))
    missed = {e.id for e, late in zip(stream.events, run.missed) if late}
    assert {r[0] for r in run.fact_rows.get("escalated", [])} <= missed
