"""Every example county routes the way its source describes: its scenarios pass (`wangge test`)."""
from __future__ import annotations

import pytest

from wangge.core.pack.loader import PackLoader
from wangge.core.scenarios import run_scenarios
from wangge.examples import COUNTIES

ALL = sorted(p.name for p in COUNTIES.iterdir() if (p / "pack.yaml").exists())


def test_fourteen_counties():
    assert len(ALL) == 14


@pytest.mark.parametrize("county", ALL)
def test_county_scenarios_pass(county):
    pack = PackLoader().load(COUNTIES / county)
    assert pack.routing is not None and pack.routing.tables, f"{county} has no routing tables"
    results = run_scenarios(pack)
    assert len(results) >= 3
    failures = {r.scenario.id: r.diffs for r in results if not r.passed}
    assert not failures, failures
