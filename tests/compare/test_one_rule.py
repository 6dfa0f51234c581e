"""Two packs that differ in exactly one routing rule: the diff's routing rows are exactly the events that
rule moves. The expected set is computed without the router or the comparison: each event is parsed in the
pack's vocabulary and the decision table's conditions are tested in order (FIRST hit policy)."""
from __future__ import annotations

import shutil

from wangge.core.compare import Translator, compare_packs, generate
from wangge.core.events import event_fields, parse_event
from wangge.examples import COUNTIES

OLD = "then: {level: township, lead: anjianzhan, notify: [{role: command}], priority: 5, state: registered}"
NEW = "then: {level: township, lead: zhifa, notify: [{role: command}], priority: 5, state: registered}"


def _first_rule(pack, raw) -> str | None:
    table = next(t for t in pack.routing.tables if t.id == "sanlei")
    env = event_fields(parse_event(raw, pack), pack)
    return next((r.id for r in table.rules if all(c.test(env) for c in r.condition.conjuncts)), None)


def test_diff_is_exactly_what_the_rule_moves(tmp_path, loader, pengli) -> None:
    copy = tmp_path / "pengli-changed"
    shutil.copytree(COUNTIES / "binzhou-pengli", copy)
    routing = copy / "routing.yaml"
    text = routing.read_text(encoding="utf-8")
    assert text.count(OLD) == 1
    routing.write_text(text.replace(OLD, NEW), encoding="utf-8")
    changed = loader.load(copy)
    events = generate(pengli, 3000, seed=21).events

    report = compare_packs([pengli, changed], events, workers=1)

    tr = Translator.for_pack(pengli)
    expected = {e.id for e in events if _first_rule(pengli, tr.raw_event(e)) == "safety"}
    got = {row["id"] for row in report.diff["events"] if row["routing"]}
    assert expected, "the stream must contain events the rule applies to"
    assert got == expected
    assert report.diff["routing_differs"] == len(expected)
    for row in report.diff["events"]:
        if row["routing"]:
            assert row["lead"] == ["anjianzhan", "zhifa"]
    assert report.labels == ("cn.sd.binzhou.pengli", "cn.sd.binzhou.pengli#2")
