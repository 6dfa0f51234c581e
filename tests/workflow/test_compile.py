"""Compiling ``workflow:`` / ``escalation:``: every example county has one, and every mistake is reported."""
from __future__ import annotations

from pathlib import Path

import pytest

from wangge.core.pack.loader import PackLoader
from wangge.core.pack.problems import PackError

ROOT = Path(__file__).resolve().parents[2]
COUNTIES = sorted(p for p in (ROOT / "examples" / "counties").iterdir() if p.is_dir())
LOADER = PackLoader()


@pytest.mark.parametrize("county", COUNTIES, ids=lambda p: p.name)
def test_every_county_has_a_workflow_and_escalation(county):
    pack = LOADER.load(county)
    wf = pack.workflow
    assert (county / "workflow.yaml").exists()
    assert wf is not None and wf.initial == "reported" and pack.escalation
    assert any(s.kind == "closed" for s in wf.states.values())
    assert wf.returns.within is not None and str(wf.extension.cap) == "10工作日"


def test_county_specific_mechanisms():
    load = lambda name: LOADER.load(ROOT / "examples" / "counties" / name)  # noqa: E731
    yingze = load("taiyuan-yingze").workflow
    assert [r.name for r in yingze.ladder.rungs] == ["网格首诊", "村社坐诊(人民调解)", "街镇接诊(司法调解)", "区级会诊(多元调解)"]
    yangqu = load("taiyuan-yangqu")
    assert [r.id for r in yangqu.workflow.ladder.rungs] == ["grid", "village", "secretary", "township", "county"]
    assert yangqu.workflow.transition("whistle").kind == "summon" and str(yangqu.workflow.summons.limit) == "1工作日"
    pengli = load("binzhou-pengli").workflow
    assert {"close_on_spot", "to_community", "to_street", "emergency_report"} <= {t.id for t in pengli.transitions}
    assert [r.level for r in pengli.ladder.rungs] == ["grid", "village", "township"]
    xiaodian = load("taiyuan-xiaodian").workflow
    names = [xiaodian.states[s].name for s in ("reported", "registered", "dispatched", "handled", "closed")]
    assert names == ["发现", "采集", "流转", "处置", "结案"] and "evaluated" not in xiaodian.states
    assert load("taiyuan-loufan").workflow.disputes.arbiter == "department:maodiao_lianxi"
    haidian = load("beijing-haidian").workflow
    assert [r.level for r in haidian.ladder.rungs] == ["village", "township", "county"]


def _broken(tmp_path: Path, workflow: str) -> list[str]:
    pack = tmp_path / "broken"
    pack.mkdir()
    (pack / "pack.yaml").write_text(
        'pack: {id: test.broken, name: 测试, region: "100000", version: 1.0.0, extends: {id: cn.base, version: ">=1.0,<2"}}\n',
        encoding="utf-8")
    (pack / "workflow.yaml").write_text(workflow, encoding="utf-8")
    with pytest.raises(PackError) as err:
        PackLoader().load(pack)
    return [str(p) for p in err.value.problems]


def test_unknown_role_state_and_bad_expression(tmp_path):
    problems = _broken(tmp_path, """
workflow:
  transitions:
    - {id: register, roles: [grid_wroker]}
    - {id: dispatch, to: dispachted}
    - {id: close, condition: "${people} >"}
    - {id: reject, roles: [kind:boss]}
""")
    text = "\n".join(problems)
    assert 'UNKNOWN_ROLE 引用了未声明的角色 "grid_wroker"' in text and '是不是 "grid_worker"' in text
    assert 'UNKNOWN_STATE 引用了未声明的状态 "dispachted"' in text and '是不是 "dispatched"' in text
    assert "BAD_EXPRESSION 条件表达式错误" in text
    assert 'UNKNOWN_ROLE 未知的角色类别 "boss"' in text
    assert all("workflow.yaml:" in p for p in problems)


def test_unreachable_and_no_closed_state(tmp_path):
    problems = _broken(tmp_path, """
workflow:
  states:
    - {id: closed, kind: open}
    - {id: limbo, name: 无人问津}
""")
    text = "\n".join(problems)
    assert "NO_CLOSED_STATE" in text
    assert 'UNREACHABLE_STATE 状态 "limbo" (无人问津) 从初始状态 "reported" 无法到达' in text


def test_escalation_references_are_checked(tmp_path):
    problems = _broken(tmp_path, """
escalation:
  - {id: x, states: [nowhere], raise_to: province, transition: teleport, after: 3天}
""")
    text = "\n".join(problems)
    for code in ("UNKNOWN_STATE", "UNKNOWN_LEVEL", "UNKNOWN_TRANSITION", "UNKNOWN_TIME_UNIT"):
        assert code in text, text
