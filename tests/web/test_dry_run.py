"""The dry run shows, per event, where a draft pack would send it — and says so when a draft's UNIQUE
table matches twice, instead of failing the page."""
from __future__ import annotations

import json

from wangge.core.pack.loader import load_pack
from wangge.web.packs import dry_run

DRAFT = """
pack: {id: test.dryrun, name: 试运行, region: "149901", version: 1.0.0, extends: {id: cn.base, version: ">=1.0,<2"}}
grid:
  units:
    - {code: "149901", name: 示例县, level: county, source: illustrative, children: [
        {code: "149901001", name: 镇, level: township, children: [
          {code: "149901001001", name: 村, level: village, children: [
            {code: "14990100100101", name: 网格, level: grid}]}]}]}
departments: [{id: minzheng, name: 民政局, level: county}]
routing:
  tables:
    - id: overlap
      hit: unique
      rules:
        - {id: a, when: {urgency: normal}, then: {lead: minzheng}}
        - {id: b, when: {people: ">= 5"}, then: {lead: minzheng}}
"""


def test_dry_run_routes_each_event_and_reports_a_unique_violation(tmp_path):
    (tmp_path / "draft.yaml").write_text(DRAFT, encoding="utf-8")
    pack = load_pack(tmp_path / "draft.yaml")
    base = {"class": "mdjf_linli", "channel": "grid_patrol", "unit": "14990100100101",
            "reported_at": "2026-03-02T09:00:00+08:00"}
    lines = "\n".join(json.dumps({**base, "id": str(n), "people": people}) for n, people in ((1, 1), (2, 8)))
    rows = dry_run(pack, lines)
    assert rows[0].decision.lead == "minzheng" and not rows[0].errors
    assert "UNIQUE" in rows[1].errors["$"] and rows[1].decision is None
