"""What the national base pack declares for every county: the GB/T 31000 "9+X" data categories, the 12345
request types with their time limit, the 六步闭环 outline and the standard indicators."""
from __future__ import annotations

from datetime import datetime

from wangge.core.events import parse_event
from wangge.core.pack.loader import load_pack
from wangge.core.routing import Router
from wangge.examples import COUNTIES
from wangge.rulepacks import PATH

BASE = load_pack(PATH / "cn.base")


def test_nine_plus_x_data_categories_and_12345_request_types_are_declared():
    categories = [c.label for c in BASE.fields["data_category"].choices]
    assert categories[:9] == ["综治组织及综合业务", "实有人口", "特殊人群", "重点青少年", "非公经济和社会组织",
                              "社会治安", "矛盾纠纷排查化解", "校园及周边安全", "护路护线"]
    assert "X" in categories[9]
    assert [c.value for c in BASE.fields["hotline_request_type"].choices] == ["咨询", "投诉", "求助", "建议", "举报"]


def test_110_119_120_122_stay_separate_channels_from_12345():
    assert {"hotline_12345", "hotline_110", "hotline_119", "hotline_120", "hotline_122"} <= set(BASE.channels)


def test_standard_indicators_and_six_step_outline():
    names = {i.name for i in BASE.indicators.values()}
    assert {"立案率", "结案率", "按期结案率", "返工率"} <= names
    assert BASE.workflow is not None and len([s for s in BASE.workflow.states.values() if s.kind != "terminal"]) >= 6


def test_a_12345_order_gets_five_working_days_unless_the_county_says_otherwise():
    pack = load_pack(COUNTIES / "taiyuan-qingxu")
    unit = next(u.code for u in pack.grid.units.values() if u.level == "grid")
    event = parse_event({"id": "h1", "class": "srhj_baolu", "channel": "hotline_12345", "unit": unit,
                         "reported_at": "2026-03-02T09:00:00+08:00"}, pack)
    decision = Router.from_pack(pack).decide(event)
    assert str(decision.time_limit) == "5工作日"
    assert decision.due == datetime.fromisoformat("2026-03-09T17:30:00+08:00")
