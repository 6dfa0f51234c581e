"""The pure state machine: allowed actions per actor, without a database."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from wangge.core.pack.loader import PackLoader
from wangge.core.workcal import SHANGHAI
from wangge.core.workflow import Actor, CaseView, allowed_actions, apply, escalate

ROOT = Path(__file__).resolve().parents[2]
PACK = PackLoader().load(ROOT / "examples" / "counties" / "binzhou-pengli")
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
GRID = next(u.code for u in PACK.grid.units.values() if u.level == "grid")
COMMUNITY = PACK.grid.units[GRID].parent
STREET = PACK.grid.units[COMMUNITY].parent


def case(state: str = "reported", **kw) -> CaseView:
    base = dict(id="c1", state=state, level="grid", unit_code=GRID, handler_unit=GRID, lead=None, assist=(),
                reported_by="resident-1", event=MappingProxyType({"class": "srhj_baolu", "urgency": "normal"}),
                decision=MappingProxyType({"time_limit": "1工作日"}), entered_at=NOW)
    base.update(kw)
    return CaseView(**base)


def ids(actor: Actor, view: CaseView) -> set[str]:
    return {t.id for t in allowed_actions(PACK, view, actor)}


def test_who_may_do_what_on_a_new_case():
    assert ids(Actor("w", "grid_worker", GRID), case()) == {"close_on_spot", "to_community", "to_street"}
    assert ids(Actor("c", "command", STREET), case()) == {"register", "reject"}
    assert ids(Actor("l", "grid_leader", COMMUNITY), case()) == {"register", "reject", "to_street"}
    assert ids(Actor("x", "department", "zhifa"), case()) == set()
    assert ids(Actor("r", "reporter"), case()) == set()


def test_emergency_opens_the_direct_line():
    urgent = case(event=MappingProxyType({"class": "srhj_baolu", "urgency": "emergency"}))
    assert "emergency_report" in ids(Actor("w", "grid_worker", GRID), urgent)


def test_apply_dispatch_sets_lead_deadline_and_notifications():
    out = apply(PACK, case("registered", level="township", handler_unit=STREET,
                           decision=MappingProxyType({"lead": "zhifa", "assist": ["wuye"], "time_limit": "1工作日"})),
                "dispatch", Actor("c", "command", STREET), NOW)
    assert (out.to_state, out.lead, out.assist) == ("dispatched", "zhifa", ("wuye",))
    assert dict(out.deadlines)["handle"] == datetime(2026, 3, 3, 17, 30, tzinfo=SHANGHAI)
    assert {"department:zhifa", "department:wuye"} <= set(out.notify) and out.facts == ("dispatched",)


def test_escalation_raises_only_upwards_and_supervises():
    rules = {r.id: r for r in PACK.escalation}
    view = case("dispatched", level="grid", lead="zhifa")
    out = escalate(PACK, view, rules["overdue-raise"], "handle", NOW)
    assert (out.level, out.handler_unit, out.rule) == ("township", STREET, "overdue-raise")
    same = escalate(PACK, case("dispatched", level="township", handler_unit=STREET), rules["overdue-raise"], "handle", NOW)
    assert same.level == "township" and "raised" not in same.facts
    assert escalate(PACK, case("closed"), rules["overdue-supervise"], "handle", NOW) is None
    assert escalate(PACK, view, rules["overdue-supervise"], "handle", NOW).supervised
