"""Plugins observe every stored case change — opening, acting, escalating — in the transaction that wrote
it, so what they ask to send is stored with the change or not at all."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from wangge.core import hooks
from wangge.core.cases import act, open_case
from wangge.core.cases.escalation import tick
from wangge.core.outbox import plugin_observer
from wangge.core.store.tables import outbox
from wangge.core.workflow import Actor, WorkflowError

from .conftest import MONDAY, decision, event, grid_unit


class Recorder:
    """A plugin that asks to send one message per case change, naming the step."""

    @hooks.hookimpl
    def wangge_case_event(self, context, case, transition):  # type: ignore[no-untyped-def]
        return [hooks.OutboxRequest("test", "observer", {"case": case["id"], "seq": transition["seq"],
                                                          "action": transition["action"]})]


def observed(db) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.payload).where(outbox.c.kind == "test")).scalars().all()
    return sorted((p["seq"], p["action"]) for p in rows)


@pytest.fixture
def observe(journey):  # type: ignore[no-untyped-def]
    j = journey("taiyuan-qingxu")
    manager = hooks.plugin_manager({}, extra=[Recorder()], load_entry_points=False)
    return j, plugin_observer(manager, hooks.context_for(j.pack, j.tenant))


def test_open_act_and_escalation_are_each_observed_once(observe):
    j, watch = observe
    case = open_case(j.db, j.tenant, j.pack, event(j.pack), decision(j.pack),
                     Actor("grid-worker-1", "grid_worker", grid_unit(j.pack)), now=MONDAY, observe=watch)
    case = j.walk(case, "register")            # not observed: no observer given
    case = act(j.db, j.tenant, j.pack, case.id, "dispatch", Actor("c", "department", "zongzhi_county"), "派遣",
               None, now=MONDAY, observe=watch)
    report = tick(j.db, case.due_at + timedelta(minutes=1), "w1", observe=watch)
    assert report.escalated == 1
    assert observed(j.db) == [(1, "open"), (3, "dispatch"), (4, "escalate")]


def test_a_refused_action_leaves_no_message(observe):
    j, watch = observe
    case = j.open()
    with pytest.raises(WorkflowError):
        act(j.db, j.tenant, j.pack, case.id, "close", Actor("grid-worker-1", "grid_worker", grid_unit(j.pack)),
            "", None, now=MONDAY, observe=watch)
    assert observed(j.db) == []
