"""Routing throughput: the compiled fast path vs durable-rules, GoRules zen-engine and a plain first-match list.

    .venv/bin/python bench/routing.py [--rules 500] [--events 200000] [--slow-events 20000] [--seed 7]

One command. It generates a pack (a copy of an example county with a generated ``routing:`` of N FIRST rules
over class × urgency × channel × people, plus major-wide rules), loads it, and runs the SAME events through
four engines on the SAME rules, asserting identical decisions (the matched rule) before printing
decisions/s and the ratios against the targets (≥1,000,000/s, ≥20× durable-rules, ≥5× zen-engine).
durable-rules and zen-engine are timed on the first ``--slow-events`` events (they are 20-100× slower).
It also prints the load time of a 1,000-rule routing pack and the full ``decide()`` rate (fields, targets,
deadline on the working calendar, trace) for reference.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASE_COUNTY = ROOT / "examples" / "counties" / "taiyuan-xiaodian"
URGENCIES = ["normal", "urgent", "emergency"]


def make_rules(pack: Any, n: int, rng: random.Random) -> list[dict[str, Any]]:
    subclasses = [c.id for c in pack.events.subclasses()]
    majors = [c.id for c in pack.events.majors]
    channels = sorted(pack.channels)[:8]
    departments = sorted(pack.departments)
    levels = [lv.id for lv in pack.grid.levels]
    wide = max(1, n // 25)  # major-wide rules: they land in many buckets, as real "catch the rest" rules do
    rules = []
    for i in range(n):
        when: dict[str, Any] = {}
        if i >= n - wide:
            when["major"] = rng.choice(majors)
        else:
            when["class"] = rng.choice(subclasses)
        if rng.random() < 0.7:
            when["urgency"] = rng.sample(URGENCIES, rng.choice([1, 2]))
        if rng.random() < 0.6:
            when["channel"] = rng.sample(channels, rng.choice([1, 2, 3]))
        if rng.random() < 0.5:
            when["people"] = f">= {rng.choice([1, 3, 5, 10, 20, 50])}"
        rules.append({"id": f"r{i}", "when": when,
                      "then": {"level": rng.choice(levels), "lead": rng.choice(departments), "priority": i % 10}})
    return rules


def write_pack(folder: Path, rules: list[dict[str, Any]]) -> None:
    shutil.copytree(BASE_COUNTY, folder)
    for extra in ("routing.yaml", "scenarios.yaml"):
        (folder / extra).unlink(missing_ok=True)
    routing = {"routing": {"tables": [{"id": "bench", "hit": "first", "rules": rules}]}}
    (folder / "routing.yaml").write_text(json.dumps(routing, ensure_ascii=False), encoding="utf-8")


def make_events(pack: Any, router: Any, n: int, rng: random.Random) -> list[dict[str, Any]]:
    from wangge.core.events import parse_event

    subclasses = [c.id for c in pack.events.subclasses()]
    channels = sorted(pack.channels)[:10]
    units = [u.code for u in pack.grid.units.values() if u.level == "grid"]
    events = []
    for i in range(n):
        raw = {"id": f"e{i}", "class": rng.choice(subclasses), "channel": rng.choice(channels),
               "unit": rng.choice(units), "urgency": rng.choice(URGENCIES), "people": rng.choice([0, 1, 2, 4, 8, 15, 60]),
               "reported_at": "2026-03-02T09:30:00+08:00"}
        events.append(router.fields(parse_event(raw, pack)))
    return events


def plain_list(rules: list[dict[str, Any]]) -> Callable[[dict[str, Any]], int]:
    """The obvious hand-written router: a list of lambdas, first match wins."""
    indexed = tuple(enumerate(plain_checks(rules)))

    def first(e: dict[str, Any]) -> int:
        for i, check in indexed:
            if check(e):
                return i
        return -1
    return first


def plain_checks(rules: list[dict[str, Any]]) -> list[Callable[[dict[str, Any]], bool]]:
    checks = []
    for rule in rules:
        when = rule["when"]
        parts: list[Callable[[dict[str, Any]], bool]] = []
        for field, test in when.items():
            if isinstance(test, list):
                parts.append(lambda e, f=field, s=frozenset(test): e[f] in s)
            elif isinstance(test, str) and test.startswith(">="):
                parts.append(lambda e, f=field, v=int(test[2:]): e[f] >= v)
            else:
                parts.append(lambda e, f=field, v=test: e[f] == v)
        checks.append(lambda e, ps=tuple(parts): all(p(e) for p in ps))
    return checks


def zen_table(rules: list[dict[str, Any]]) -> Callable[[dict[str, Any]], int]:
    """The same rules as one GoRules decision table (hit policy first), evaluated by ZenEngine."""
    import zen

    fields = ["class", "major", "urgency", "channel", "people"]
    inputs = [{"id": f"i_{f}", "name": f, "field": f} for f in fields]
    rows = []
    for i, rule in enumerate(rules):
        row = {"_id": f"r{i}", "o_rule": str(i)}
        for f in fields:
            test = rule["when"].get(f)
            if test is None:
                row[f"i_{f}"] = ""
            elif isinstance(test, list):
                row[f"i_{f}"] = ", ".join(json.dumps(v) for v in test)
            elif isinstance(test, str) and test.startswith(">="):
                row[f"i_{f}"] = test
            else:
                row[f"i_{f}"] = json.dumps(test)
        rows.append(row)
    content = {"contentType": "application/vnd.gorules.decision", "nodes": [
        {"id": "in", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
        {"id": "t", "type": "decisionTableNode", "name": "routing", "position": {"x": 1, "y": 0},
         "content": {"hitPolicy": "first", "inputs": inputs,
                     "outputs": [{"id": "o_rule", "name": "rule", "field": "rule"}], "rules": rows}},
        {"id": "out", "type": "outputNode", "name": "Response", "position": {"x": 2, "y": 0}}],
        "edges": [{"id": "e1", "sourceId": "in", "targetId": "t", "type": "edge"},
                  {"id": "e2", "sourceId": "t", "targetId": "out", "type": "edge"}]}
    compiled = zen.ZenDecisionContent(json.dumps(content))  # parsed once; the loader hands it out
    engine = zen.ZenEngine({"loader": lambda key: compiled})

    def first(e: dict[str, Any]) -> int:
        result = engine.evaluate("routing", {f: e[f] for f in fields})["result"]
        return int(result["rule"]) if "rule" in result else -1
    return first


def rate(fn: Callable[[dict[str, Any]], int], events: list[dict[str, Any]], repeat: int = 1) -> tuple[float, list[int]]:
    out = [fn(e) for e in events[:1000]]  # warm up
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = [fn(e) for e in events]
        best = min(best, time.perf_counter() - start)
    return len(events) / best, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=500)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--slow-events", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT.parent))
    from wangge.core.pack.loader import PackLoader
    from wangge.core.routing import Router
    from wangge.core.routing.durable import FirstMatchOracle

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        base = PackLoader().load(BASE_COUNTY)
        rules = make_rules(base, args.rules, rng)
        write_pack(Path(tmp) / "bench", rules)
        write_pack(Path(tmp) / "bench1000", make_rules(base, 1000, random.Random(args.seed + 1)))
        start = time.perf_counter()
        pack = PackLoader().load(Path(tmp) / "bench")
        load_500 = time.perf_counter() - start
        start = time.perf_counter()
        pack_1000 = PackLoader().load(Path(tmp) / "bench1000")
        Router.from_pack(pack_1000)
        load_1000 = time.perf_counter() - start
    start = time.perf_counter()
    router = Router.from_pack(pack)
    compile_s = time.perf_counter() - start
    events = make_events(pack, router, args.events, rng)
    slow = events[: args.slow_events]
    # The bench pack extends a county whose base declares its own tables; time the bench's table alone.
    index = [t.id for t in pack.routing.tables].index("bench")
    table = router.tables[index]

    fast_rate, fast = rate(router.first_rule_matcher(index), events, repeat=3)
    list_rate, listed = rate(plain_list(rules), events[: max(args.slow_events * 2, 1)])
    checks = plain_checks(rules)
    at_once = max(sum(1 for check in checks if check(e)) for e in slow)  # every match, not just the first
    oracle = FirstMatchOracle(pack.routing.tables[index], name="bench", matching_at_once=at_once)
    durable_rate, durable = rate(oracle.first_match, slow)
    zen_rate, zenned = rate(zen_table(rules), slow)

    assert listed == fast[: len(listed)], "plain list disagrees with the fast path"
    assert durable == fast[: len(durable)], "durable-rules disagrees with the fast path"
    assert zenned == fast[: len(zenned)], "zen-engine disagrees with the fast path"

    from wangge.core.events import parse_event
    raws = [{"id": e["id"], "class": e["class"], "channel": e["channel"], "unit": e["unit"], "urgency": e["urgency"],
             "people": e["people"], "reported_at": "2026-03-02T09:30:00+08:00"} for e in slow]
    parsed = [parse_event(r, pack) for r in raws]
    start = time.perf_counter()
    for ev in parsed:
        router.decide(ev)
    decide_rate = len(parsed) / (time.perf_counter() - start)

    matched = sum(1 for x in fast if x >= 0)
    print(f"pack: {args.rules} FIRST rules over class×urgency×channel×people; {len(events):,} events "
          f"({matched / len(fast):.0%} matched); identical decisions on {len(slow):,} events in all four engines")
    print(f"index: {table.stats()['leaves']} leaves, longest candidate list {table.stats()['longest']}; "
          f"at most {at_once} rules match one event")
    print(f"load: 500-rule pack {load_500 * 1000:.0f} ms (router compile {compile_s * 1000:.0f} ms); "
          f"1,000-rule pack + router {load_1000 * 1000:.0f} ms")
    print(f"{'engine':<28}{'decisions/s':>14}")
    for name, value in (("wangge fast path", fast_rate), ("plain first-match list", list_rate),
                        ("zen-engine (ZenEngine)", zen_rate), ("durable-rules (1 session)", durable_rate),
                        ("wangge decide() full", decide_rate)):
        print(f"{name:<28}{value:>14,.0f}")
    checks = [("≥ 1,000,000 decisions/s", fast_rate >= 1_000_000, f"{fast_rate:,.0f}/s"),
              ("≥ 20× durable-rules", fast_rate >= 20 * durable_rate, f"{fast_rate / durable_rate:.1f}×"),
              ("≥ 5× zen-engine", fast_rate >= 5 * zen_rate, f"{fast_rate / zen_rate:.1f}×"),
              ("vs plain list", True, f"{fast_rate / list_rate:.1f}×")]
    for label, ok, shown in checks:
        print(f"  {'OK ' if ok else 'MISS'} {label:<26} {shown}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
