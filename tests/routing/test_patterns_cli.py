"""Cross-event patterns in one owner thread, and the `wangge route` / `wangge test` commands."""
from __future__ import annotations

import json
import threading

from click.testing import CliRunner

from wangge.core.cli import cli
from wangge.core.events import parse_event
from wangge.core.routing import Router
from wangge.core.routing.patterns import PatternEngine

from .conftest import GRID, PENGLI, event, pack_with


def test_pattern_fires_on_third_report_in_window(pengli):
    router = Router.from_pack(pengli)
    with PatternEngine(pengli) as engine:
        fired = []
        for n, day in enumerate(["01", "03", "05", "06"]):
            ev = parse_event(event(f"p{n}", cls="srhj_baolu", reported_at=f"2026-03-{day}T09:00:00+08:00"), pengli)
            fired.append([h.pattern.id for h in engine.observe(ev, router.fields(ev))])
        assert fired == [[], [], ["repeat_in_grid"], ["repeat_in_grid"]]


def test_pattern_engine_serialises_threads(pengli):
    """Many threads observe at once; durable is only entered by the owner thread, counts stay exact."""
    router = Router.from_pack(pengli)
    seen = []
    with PatternEngine(pengli) as engine:
        def worker(k):
            for n in range(10):
                ev = parse_event(event(f"t{k}-{n}", cls="srhj_jicun", reported_at="2026-03-02T09:00:00+08:00"), pengli)
                seen.append(max((h.count for h in engine.observe(ev, router.fields(ev))), default=0))
                assert threading.current_thread() is not engine._thread
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert max(seen) == 40


def test_route_command(tmp_path):
    lines = [json.dumps(event("ok1", cls="shza_yinhuan")), "{not json", json.dumps(event("bad", unit="999", cls="nope")),
             json.dumps(event("ok2", urgency="emergency"))]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["route", str(PENGLI), "--events", str(path)])
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o.get("id") for o in out] == ["eok1", None, "ebad", "eok2"]
    first = out[0]
    assert set(first) >= {"id", "level", "unit", "lead", "assist", "notify", "due", "priority", "state", "trace"}
    assert first["lead"] == "paichusuo" and "police" in [step["rule"] for step in first["trace"] if step["matched"]]
    assert "unit" in out[2]["error"] and "class" in out[2]["error"]
    assert out[3]["state"] == "registered"


def test_test_command_passes_and_fails(tmp_path):
    ok = CliRunner().invoke(cli, ["test", str(PENGLI)])
    assert ok.exit_code == 0 and "PASS" in ok.stdout
    folder = pack_with(tmp_path, scenarios=[{"id": "wrong", "event": event("w1", unit=GRID), "expect": {"lead": "paichusuo"}}])
    bad = CliRunner().invoke(cli, ["test", str(folder)])
    assert bad.exit_code == 1
    assert "FAIL  wrong" in bad.stdout and "lead: 预期 'paichusuo'" in bad.stdout
