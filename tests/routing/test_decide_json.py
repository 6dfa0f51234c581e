"""``Router.decide_json`` (what the HTTP intake stores, built without the Decision) equals the cases service's
``decision_json(Router.decide(event))``, for every example county and for random tables."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.core.cases.service import decision_json
from wangge.core.events import parse_event
from wangge.core.pack.loader import PackLoader
from wangge.core.routing import Router, RoutingError
from wangge.examples import COUNTIES

from .conftest import event
from .test_property import compiled, events_st, rules_st

ALL = sorted(p.name for p in COUNTIES.iterdir() if (p / "pack.yaml").exists())


def _raw_events(pack, count: int = 120) -> list[dict]:  # type: ignore[no-untyped-def]
    classes, units, channels = list(pack.events.classes), list(pack.grid.units), list(pack.channels)
    out = []
    for n in range(count):
        # 2035: a year no calendar knows (the decision says why it has no deadline); +00:00 and +08:00 starts
        start = datetime(2026 if n % 10 else 2035, 1 + n % 12, 1 + n % 28, n % 24, (n * 7) % 60,
                         tzinfo=timezone(timedelta(hours=8 if n % 3 else 0)))
        raw = {"id": f"e{n}", "class": classes[(n * 5) % len(classes)], "channel": channels[n % len(channels)],
               "unit": units[(n * 11) % len(units)], "reported_at": start.isoformat(),
               "urgency": ("normal", "urgent", "emergency")[n % 3], "people": (n * 13) % 60}
        if n % 4 == 0:
            raw["data"] = {"on_spot": n % 8 == 0}
        out.append(raw)
    return out


def _same(router: Router, ev) -> None:  # type: ignore[no-untyped-def]
    try:
        expected = decision_json(router.decide(ev))
    except RoutingError as exc:
        with pytest.raises(RoutingError) as again:
            router.decide_json(ev)
        assert again.value.message == exc.message
        return
    assert router.decide_json(ev) == expected
    assert router.decide_json(ev) == expected   # again, from the router's memos


@pytest.mark.parametrize("county", ALL)
def test_decide_json_equals_stored_decision(county):
    pack = PackLoader().load(COUNTIES / county)
    router = Router.from_pack(pack)
    for raw in _raw_events(pack):
        _same(router, parse_event(raw, pack))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rules=rules_st, events=events_st, hit=st.sampled_from(["first", "collect", "unique", "any", "priority"]))
def test_decide_json_equals_stored_decision_random_tables(pengli, rules, events, hit):
    router = Router(pengli, compiled(pengli, rules, hit))
    for e in events:
        _same(router, parse_event(event(**e), pengli))
