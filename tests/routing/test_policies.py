"""Hit policies, chaining, targets, and the load-time checks of the routing section."""
from __future__ import annotations

import pytest

from wangge.core.events import parse_event
from wangge.core.pack.loader import PackLoader
from wangge.core.pack.problems import PackError
from wangge.core.routing import Router, RoutingError

from .conftest import compile_raw, event, pack_with


def route(pack, routing, **fields):
    compiled, problems = compile_raw(pack, routing)
    assert not problems, [str(p) for p in problems]
    return Router(pack, compiled).decide(parse_event(event(**fields), pack))


def table(hit, rules, **extra):
    return {"tables": [{"id": "t", "hit": hit, "rules": rules, **extra}]}


def test_first_takes_the_first_match(pengli):
    rules = [{"id": "a", "when": {"people": ">= 5"}, "then": {"lead": "sifasuo"}},
             {"id": "b", "when": {"major": "mdjf"}, "then": {"lead": "paichusuo"}}]
    assert route(pengli, table("first", rules), people=9).lead == "sifasuo"
    assert route(pengli, table("first", rules), people=1).lead == "paichusuo"


def test_unique_violation_is_an_error(pengli):
    rules = [{"id": "a", "when": {"major": "mdjf"}, "then": {"lead": "sifasuo"}},
             {"id": "b", "when": "${people} > 3", "then": {"lead": "paichusuo"}}]
    assert route(pengli, table("unique", rules), people=1).lead == "sifasuo"
    with pytest.raises(RoutingError, match="UNIQUE"):
        route(pengli, table("unique", rules), people=5)


def test_any_requires_agreement(pengli):
    same = [{"id": "a", "when": {"major": "mdjf"}, "then": {"lead": "sifasuo"}},
            {"id": "b", "when": "${people} > 3", "then": {"lead": "sifasuo"}}]
    assert route(pengli, table("any", same), people=5).lead == "sifasuo"
    differ = [same[0], {"id": "b", "when": "${people} > 3", "then": {"lead": "paichusuo"}}]
    with pytest.raises(RoutingError, match="ANY"):
        route(pengli, table("any", differ), people=5)


def test_priority_by_number_and_by_declared_order(pengli):
    rules = [{"id": "low", "when": {"major": "mdjf"}, "then": {"level": "village", "priority": 2}},
             {"id": "high", "when": "${people} >= 3", "then": {"level": "township", "priority": 8}}]
    assert route(pengli, table("priority", rules), people=4).level == "township"
    ordered = table("priority", rules, priority_order={"output": "level", "values": ["village", "township", "grid"]})
    assert route(pengli, ordered, people=4).level == "village"


def test_collect_accumulates_and_aggregates(pengli):
    rules = [{"id": "a", "when": {"major": "mdjf"}, "then": {"assist": ["sifasuo"], "priority": 4}},
             {"id": "b", "when": "${people} >= 3", "then": {"assist": ["paichusuo", "sifasuo"], "priority": 7}}]
    d = route(pengli, table("collect", rules, aggregate="max"), people=4)
    assert d.assist == ("sifasuo", "paichusuo") and d.priority == 7
    d = route(pengli, table("collect", rules, aggregate="sum"), people=4)
    assert d.priority == 11
    assert [s.rule for s in d.trace if s.matched] == ["a", "b"]


def test_chained_tables_read_the_route(pengli):
    routing = {"tables": [
        {"id": "level", "hit": "first", "rules": [{"id": "up", "when": {"people": ">= 10"}, "then": {"level": "township"}}]},
        {"id": "notify", "hit": "collect", "rules": [
            {"id": "cc", "when": "${route.level} == 'township'", "then": {"notify": [{"kind": "command_center"}]}}]}]}
    assert route(pengli, routing, people=12).notify == ("command@371602008",)
    assert route(pengli, routing, people=1).notify == ()


def test_dynamic_targets_resolve_on_the_tree(pengli):
    routing = table("first", [{"id": "a", "then": {
        "level": {"ancestor": "village"}, "lead": {"role": "grid_worker"},
        "assist": [{"unit": {"up": 2}}], "notify": [{"kind": "command_center"}, {"role": "grid_leader", "at": "handling"}]}}])
    d = route(pengli, routing)
    assert (d.level, d.unit) == ("village", "371602008001")
    assert d.lead == "grid_worker@37160200800101"
    assert d.assist == ("unit:371602008",)
    assert d.notify == ("command@371602008", "grid_leader@371602008001")


def test_due_from_class_and_rule(pengli):
    d = route(pengli, table("first", [{"id": "a", "when": {"urgency": "urgent"}, "then": {"time_limit": "2小时"}}]),
              urgency="urgent")
    assert str(d.time_limit) == "2小时" and d.due.isoformat() == "2026-03-02T11:30:00+08:00"
    d = route(pengli, {"tables": []})
    assert str(d.time_limit) == "5工作日" and d.state == "reported"  # the workflow's initial state


@pytest.mark.parametrize("routing, code", [
    (table("first", [{"id": "a", "then": {"lead": "no_such_dept"}}]), "UNKNOWN_DEPARTMENT"),
    (table("first", [{"id": "a", "then": {"lead": {"role": "nobody"}}}]), "UNKNOWN_ROLE"),
    (table("first", [{"id": "a", "then": {"notify": [{"kind": "police", "at": "township"}]}}]), "UNKNOWN_ROLE"),
    (table("first", [{"id": "a", "then": {"level": "gird"}}]), "UNKNOWN_LEVEL"),
    (table("first", [{"id": "a", "when": {"class": "mdjf_nope"}}]), "UNKNOWN_CLASS"),
    (table("first", [{"id": "a", "when": {"channel": "fax"}}]), "UNKNOWN_CHANNEL"),
    (table("first", [{"id": "a", "when": "${people} >>= 3"}]), "BAD_EXPRESSION"),
    (table("first", [{"id": "a", "then": {"state": "limbo"}}]), "UNKNOWN_STATE"),
    (table("collect", [{"id": "a", "then": {"lead": "sifasuo"}}]), "SCHEMA"),
    (table("first", [{"id": "a", "then": {"time_limit": "3天"}}]), "UNKNOWN_TIME_UNIT"),
])
def test_load_errors(pengli, routing, code):
    compiled, problems = compile_raw(pengli, routing)
    assert code in {p.code for p in problems}, [str(p) for p in problems]


def test_errors_point_at_the_file(tmp_path):
    folder = pack_with(tmp_path, {"tables": [{"id": "t", "rules": [{"id": "a", "then": {"lead": "nobody_dept"}}]}]})
    with pytest.raises(PackError) as info:
        PackLoader().load(folder)
    text = str(info.value)
    assert "routing.yaml:" in text and "UNKNOWN_DEPARTMENT" in text
