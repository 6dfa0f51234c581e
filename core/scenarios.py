"""Running a pack's ``scenarios:``: route each event and compare with what the author expects.

``expect`` may name any subset of the decision's fields. Lists (assist, notify, merge_with) compare as
sets — the author states who is involved, not the order rules happened to add them; ``rules`` lists rules
(``rule`` or ``table/rule``) that must appear in the trace; ``error`` expects routing to fail with a message
containing that text. Earlier events in ``after:`` go through the cross-event patterns first.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .events import EventError, parse_event
from .pack.model import Pack
from .pack.sections.scenarios import Scenario
from .routing import Decision, Router, RoutingError
from .routing.patterns import PatternEngine, apply_hits
from .timelimit import TimeLimitError, parse_time_limit

SET_FIELDS = ("assist", "notify", "merge_with")


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    diffs: tuple[str, ...]
    decision: Decision | None = None

    @property
    def passed(self) -> bool:
        return not self.diffs


class ScenarioRunner:
    """Routes scenarios of one pack; owns a PatternEngine (one owner thread) when the pack has patterns."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.router = Router.from_pack(pack)
        self.patterns = PatternEngine(pack) if self.router.routing.patterns else None

    def close(self) -> None:
        if self.patterns is not None:
            self.patterns.close()

    def __enter__(self) -> ScenarioRunner:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def route(self, raw: Any) -> Decision:
        """One event → its decision, cross-event patterns included (raises EventError, RoutingError)."""
        event = parse_event(raw, self.pack)
        decision = self.router.decide(event)
        if self.patterns is not None:
            hits = self.patterns.observe(event, self.router.fields(event))
            decision = apply_hits(decision, hits, self.pack, event)
        return decision

    def run(self, scenario: Scenario) -> ScenarioResult:
        if self.patterns is not None:
            self.patterns.reset()
        expect = dict(scenario.expect)
        try:
            for earlier in scenario.after:
                self.route(earlier)
            decision = self.route(scenario.event)
        except EventError as exc:
            return ScenarioResult(scenario, tuple(f"事件无效 {k}: {v}" for k, v in exc.errors.items()))
        except RoutingError as exc:
            if "error" in expect and str(expect["error"]) in exc.message:
                return ScenarioResult(scenario, ())
            return ScenarioResult(scenario, (f"流转失败: {exc.message}",))
        if "error" in expect:
            return ScenarioResult(scenario, (f"预期流转失败 ({expect['error']}),实际成功",), decision)
        return ScenarioResult(scenario, tuple(compare(decision, expect)), decision)


def compare(decision: Decision, expect: dict[str, Any]) -> list[str]:
    actual = decision.to_json()
    diffs = []
    for key, want in expect.items():
        if key == "rules":
            seen = {s.rule for s in decision.trace if s.matched} | {f"{s.table}/{s.rule}" for s in decision.trace if s.matched}
            missing = [r for r in want if r not in seen]
            if missing:
                hit = [f"{s.table}/{s.rule}" for s in decision.trace if s.matched and s.rule]
                diffs.append(f"rules: 预期命中 {missing},实际命中 {hit}")
            continue
        got = actual.get(key)
        if key in SET_FIELDS:
            ok = set(want or ()) == set(got or ())
        elif key == "due":
            ok = (want is None and got is None) or (
                want is not None and got is not None and datetime.fromisoformat(str(want)) == datetime.fromisoformat(got))
        elif key == "time_limit":
            ok = _same_limit(want, got)
        else:
            ok = want == got or (want is not None and got is not None and str(want) == str(got))
        if not ok:
            diffs.append(f"{key}: 预期 {want!r},实际 {got!r}")
    return diffs


def _same_limit(want: Any, got: Any) -> bool:
    if want is None or got is None:
        return want is got
    try:
        return parse_time_limit(str(want)) == parse_time_limit(str(got))
    except TimeLimitError:
        return False


def run_scenarios(pack: Pack) -> list[ScenarioResult]:
    with ScenarioRunner(pack) as runner:
        return [runner.run(s) for s in pack.scenarios]
