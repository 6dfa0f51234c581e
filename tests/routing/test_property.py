"""Property tests: the indexed fast path equals a plain ordered scan and the durable-rules oracle."""
from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.core.events import event_fields, parse_event
from wangge.core.routing import Router
from wangge.core.routing.durable import FirstMatchOracle
from wangge.core.routing.table import CompiledTable
from wangge.core.routing.router import vocabulary

from .conftest import compile_raw, event

CLASSES = ["mdjf_linli", "mdjf_tudi", "shza_yinhuan", "srhj_baolu", "aqyh_xiaofang", "gafw_linshi"]
MAJORS = ["mdjf", "shza", "srhj", "aqyh"]
URGENCIES = ["normal", "urgent", "emergency"]
CHANNELS = ["grid_patrol", "hotline_12345", "wanggetong"]
_names = itertools.count()

column = st.one_of(
    st.tuples(st.just("class"), st.one_of(st.sampled_from(CLASSES), st.lists(st.sampled_from(CLASSES), min_size=1, max_size=3, unique=True))),
    st.tuples(st.just("major"), st.sampled_from(MAJORS)),
    st.tuples(st.just("urgency"), st.lists(st.sampled_from(URGENCIES), min_size=1, max_size=2, unique=True)),
    st.tuples(st.just("channel"), st.sampled_from(CHANNELS)),
    st.tuples(st.just("people"), st.sampled_from([">= 1", ">= 5", "< 3", "> 10"])),
)
rule = st.dictionaries(st.sampled_from(["class", "major", "urgency", "channel", "people"]), st.none(), max_size=0) | \
    st.lists(column, max_size=3).map(dict)
rules_st = st.lists(rule, min_size=1, max_size=30)
events_st = st.lists(st.fixed_dictionaries({
    "cls": st.sampled_from(CLASSES), "urgency": st.sampled_from(URGENCIES), "channel": st.sampled_from(CHANNELS),
    "people": st.integers(0, 20)}), min_size=1, max_size=25)


def compiled(pack, rules, hit="first"):
    raw = {"tables": [{"id": "t", "hit": hit, "rules": [{"id": f"r{i}", "when": w or None, "then": {"priority": i}}
                                                       for i, w in enumerate(rules)]}]}
    routing, problems = compile_raw(pack, raw)
    assert not problems
    return routing


def naive(table, env):
    return [i for i, r in enumerate(table.rules) if all(c.test(env) for c in r.condition.conjuncts)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rules=rules_st, events=events_st, hit=st.sampled_from(["first", "collect"]))
def test_fast_path_equals_ordered_scan(pengli, rules, events, hit):
    routing = compiled(pengli, rules, hit)
    router = Router(pengli, routing)
    table = router.tables[0]
    for e in events:
        env = router.fields(parse_event(event(**e), pengli))
        expected = naive(routing.tables[0], env)
        if hit == "first":
            assert table.first_match(env) == (expected[0] if expected else -1)
        else:
            assert table.all_matches(env) == expected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rules=rules_st, events=events_st)
def test_durable_oracle_agrees_with_fast_path(pengli, rules, events):
    routing = compiled(pengli, rules)
    router = Router(pengli, routing)
    oracle = FirstMatchOracle(routing.tables[0], name=f"oracle{next(_names)}")
    for e in events:
        env = router.fields(parse_event(event(**e), pengli))
        assert oracle.first_match(env) == router.tables[0].first_match(env)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(e=events_st.map(lambda x: x[0]), data=st.dictionaries(st.sampled_from(["on_spot", "class", "x"]), st.booleans(), max_size=2))
def test_router_fields_equal_event_fields(pengli, e, data):
    ev = parse_event(event(**e, data=data), pengli)
    router = Router(pengli, compiled(pengli, [{"class": "mdjf_linli"}]))
    router._needs_data = router._needs_time = True  # the full set, as event_fields gives
    assert router.fields(ev) == event_fields(ev, pengli)


def test_index_splits_on_closed_fields(pengli):
    rules = [{"class": c, "urgency": [u]} for c in CLASSES for u in URGENCIES]
    table = CompiledTable(compiled(pengli, rules).tables[0], vocabulary(pengli))
    assert table.stats()["longest"] <= 2
