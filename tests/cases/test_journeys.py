"""Per-county workflow journeys through the store: happy paths and each county's own mechanisms."""
from __future__ import annotations

from datetime import timedelta

import pytest

from wangge.core.cases import get_case
from wangge.core.workflow import Actor, WorkflowError

from .conftest import COUNTIES, MONDAY, decision, load

SIX_STEP = ("register", "dispatch", "feedback", "close", "evaluate")


@pytest.mark.parametrize("county", sorted(p.name for p in COUNTIES.iterdir() if p.is_dir()))
def test_every_county_closes_a_case(journey, county):
    j = journey(county)
    case = j.open()
    assert case.state == j.pack.workflow.initial and case.seq == 1 and case.due_at is not None
    path = {"taiyuan-xiaodian": ("report_and_notify", "dispatch", "feedback", "close")}.get(county, SIX_STEP)
    case = j.walk(case, *path)
    assert j.pack.workflow.states[case.state].kind in ("closed", "terminal")
    full = get_case(j.db, j.tenant, case.id)
    assert [s.action for s in full.history] == ["open", *path]
    assert full.closed_at is not None and full.due_at is None


def test_pengli_three_classes_and_emergency(journey):
    j = journey("binzhou-pengli")
    on_spot = j.walk(j.open(1), "close_on_spot")
    assert on_spot.state == "closed"
    second = j.walk(j.open(2), "to_community")
    assert (second.state, second.level) == ("community", "village")
    assert j.walk(second, "community_close").state == "closed"
    third = j.walk(j.open(3), "to_community", "to_street")
    assert (third.state, third.level) == ("registered", "township")
    third = j.do(third, "dispatch_choose", data={"lead": "qu_huanbao", "assist": ["zhifa"]})
    assert (third.lead, third.assist) == ("qu_huanbao", ("zhifa",))
    with pytest.raises(WorkflowError) as err:
        j.walk(j.open(4), "emergency_report")
    assert err.value.code == "CONDITION_FALSE"
    urgent = j.walk(j.open(5, urgency="emergency"), "emergency_report")
    assert (urgent.state, urgent.priority, urgent.level) == ("registered", 9, "township")


def test_return_within_limit_and_with_reason(journey):
    j = journey("binzhou-pengli")
    case = j.walk(j.open(), "register", "dispatch")
    lead = Actor("dept", "department", case.lead)
    with pytest.raises(WorkflowError) as err:
        j.do(case, "return", note="", actor=lead)
    assert err.value.code == "NOTE_REQUIRED"
    late = MONDAY + timedelta(days=7)
    with pytest.raises(WorkflowError) as err:
        j.do(case, "return", note="不属本单位职责", actor=lead, now=late)
    assert err.value.code == "RETURN_WINDOW" and "2工作日" in err.value.message
    case = j.do(case, "return", note="不属本单位职责", actor=lead)
    assert (case.state, case.lead, case.vars["returns"]) == ("registered", None, 1)
    case = j.do(case, "redispatch", data={"lead": "zhifa"})
    assert (case.state, case.lead) == ("dispatched", "zhifa")


def test_rework_counts_and_cap(journey):
    j = journey("taiyuan-qingxu")
    case = j.walk(j.open(), "register", "dispatch", "feedback")
    for n in range(1, 4):
        case = j.walk(case, "rework", "feedback")
        assert case.vars["reworks"] == n
    with pytest.raises(WorkflowError) as err:
        j.do(case, "rework")
    assert err.value.code == "REWORK_LIMIT"


def test_extension_is_approved_within_the_cap(journey):
    j = journey("taiyuan-qingxu")
    case = j.walk(j.open(), "register", "dispatch")
    due = case.due_at
    case = j.do(case, "extend", data={"by": "5工作日"})
    assert case.due_at > due and case.vars["extensions"] == 1
    with pytest.raises(WorkflowError) as err:
        j.do(case, "extend", data={"by": "8工作日"})
    assert err.value.code == "EXTENSION_CAP" and "10工作日" in err.value.message
    case = j.do(case, "extend", data={"by": "5工作日"})
    with pytest.raises(WorkflowError) as err:
        j.do(case, "extend", data={"by": "1工作日"})
    assert err.value.code == "EXTENSION_LIMIT"


def test_yingze_four_level_triage_ladder(journey):
    j = journey("taiyuan-yingze")
    case = j.do(j.open(), "refer_first")
    assert (case.level, case.lead, case.vars["rung"]) == ("village", "pinpai_tiaojie", "village")
    case = j.do(case, "handoff", actor=Actor("d", "department", "pinpai_tiaojie"))
    assert (case.level, case.lead) == ("township", "faguan_studio")
    case = j.do(case, "handoff", actor=Actor("d", "department", "faguan_studio"))
    assert (case.level, case.lead) == ("county", "maotiao_center")
    with pytest.raises(WorkflowError) as err:
        j.do(case, "handoff", actor=Actor("d", "department", "maotiao_center"))
    assert err.value.code == "LADDER_TOP"


def test_yangqu_whistle_and_report_in(journey):
    j = journey("taiyuan-yangqu")
    case = j.walk(j.open(), "register", "dispatch")
    case = j.do(case, "whistle", data={"departments": ["gongan", "zhujian"]})
    assert case.vars["summons"] == {"gongan": "pending", "zhujian": "pending"}
    assert {"gongan", "zhujian"} <= set(case.assist)
    case = j.do(case, "report_in", actor=Actor("d", "department", "gongan"))
    assert case.vars["summons"]["gongan"] == "reported"
    with pytest.raises(WorkflowError) as err:
        j.do(case, "report_in", actor=Actor("d", "department", "gongan"))
    assert err.value.code == "NOT_ALLOWED"


def test_yangqu_secretary_rung_on_the_ladder(journey):
    j = journey("taiyuan-yangqu")
    case = j.walk(j.open(), "register", "dispatch")
    case = j.do(case, "handoff")
    assert case.vars["rung"] == "village"
    case = j.do(case, "handoff")
    assert (case.vars["rung"], case.level) == ("secretary", "village")
    case = j.do(case, "handoff")
    assert (case.level, case.lead) == ("township", "zongzhi_township")


def test_haidian_micro_small_big_cycles(journey):
    j = journey("beijing-haidian")
    case = j.do(j.open(), "micro_cycle")
    assert (case.state, case.level, case.lead) == ("dispatched", "village", "fuwuzhan")
    case = j.do(case, "handoff")
    assert (case.level, case.lead) == ("township", "township_command")
    case = j.do(case, "handoff")
    assert (case.level, case.lead) == ("county", "district_command")


def test_loufan_dispute_goes_to_the_named_arbiter(journey):
    j = journey("taiyuan-loufan")
    case = j.walk(j.open(), "register", "dispatch")
    case = j.do(case, "dispute", note="属于司法所职责", actor=Actor("d", "department", case.lead))
    assert case.state == "disputed" and case.vars["dispute"]["reason"] == "属于司法所职责"
    with pytest.raises(WorkflowError) as err:
        j.do(case, "arbitrate", data={"lead": "sifasuo"}, actor=Actor("d", "department", "zongzhi_county"))
    assert err.value.code == "NOT_ALLOWED"
    case = j.do(case, "arbitrate", data={"lead": "sifasuo"}, actor=Actor("d", "department", "maodiao_lianxi"))
    assert (case.state, case.lead) == ("dispatched", "sifasuo")


def test_panjin_temporary_relief(journey):
    j = journey("panjin-xinglongtai")
    case = j.walk(j.open(cls="gafw_linshi"), "relief_apply", "relief_review")
    assert (case.state, case.lead) == ("relief_meeting", "dangzongzhi")
    case = j.do(case, "relief_grant", note="党总支会议决定发放临时救助 300 元")
    assert case.state == "closed"


def test_permission_denied_is_explained(journey):
    j = journey("binzhou-pengli")
    case = j.open()
    with pytest.raises(WorkflowError) as err:
        j.do(case, "register", actor=Actor("w", "grid_worker", case.unit_code))
    assert err.value.code == "NOT_ALLOWED" and "无权" in err.value.message and "kind:command_center" in err.value.message
    with pytest.raises(WorkflowError) as err:
        j.do(case, "close")
    assert err.value.code == "WRONG_STATE"
    with pytest.raises(WorkflowError) as err:
        j.do(case, "fly")
    assert err.value.code == "UNKNOWN_ACTION"


def test_a_worker_of_another_grid_may_not_act(journey):
    j = journey("binzhou-pengli")
    case = j.open()
    other = next(u.code for u in j.pack.grid.units.values() if u.level == "grid" and u.code != case.unit_code)
    with pytest.raises(WorkflowError) as err:
        j.do(case, "close_on_spot", actor=Actor("w", "grid_worker", other))
    assert err.value.code == "NOT_ALLOWED"
