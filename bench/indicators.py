"""Indicators for every unit of a county: 5,000 grids, 1,000,000 stored cases, target < 1 s on SQLite.

    .venv/bin/python bench/indicators.py [--cases 1000000] [--grids 5000] [--keep DB]

One command. It writes a county pack (1 county → 20 townships → 250 villages → 5,000 grids, with the
贺村镇-style scheme), creates a migrated SQLite file, bulk-inserts the cases and their ``case_facts`` rows
(executemany; ~6 facts per case) spread over the 12 months of 2025, then times ``compute_indicators`` for
every declared indicator at grid level and at township level for one month, and a full
``score`` of every grid — each timed cold (a new connection) and printed against the 1 s target.
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.0

PACK = """
pack:
  id: bench.county
  name: 基准测试县
  region: "999999"
  version: 1.0.0
  extends: {{id: cn.base, version: ">=1.0,<2"}}
grid:
  levels:
    - {{id: county, name: 县}}
    - {{id: township, name: 乡镇}}
    - {{id: village, name: 村}}
    - {{id: grid, name: 网格}}
  units:
    - code: "999999"
      name: 基准县
      level: county
      source: illustrative
      children:
        - generate:
            level: township
            count: 20
            code: "{{parent}}{{n:03}}"
            name: "乡镇{{n}}"
            children:
              - generate:
                  level: village
                  total: 250
                  code: "{{parent}}{{n:03}}"
                  name: "{{parent_name}}村{{n}}"
                  children:
                    - generate: {{level: grid, count: {per_village}, code: "{{parent}}{{n:02}}", name: "{{parent_name}}网格{{n}}"}}
departments:
  - {{id: d1, name: 执法队, level: township, kind: station, source: illustrative}}
  - {{id: d2, name: 派出所, level: township, kind: station, source: illustrative}}
scoring:
  schemes:
    - id: monthly
      name: 月度考核
      subject: grid
      full: 100
      bonus_cap: 10
      components:
        - id: yunzuo
          max: 50
          rules:
            - {{id: anqi, indicator: anqi_jiean_rate, piecewise: {{full: 50, at_least: 70, per_point_below: 1}}}}
            - {{id: fangong, per_event: {{fact: reworked, points: -0.2}}}}
        - id: lvzhi
          max: 30
          rules:
            - {{id: jiean, indicator: jiean_rate, weight: 30}}
        - id: manyi
          max: 20
          rules:
            - {{id: huifang, indicator: huifang_manyi_rate, weight: 20}}
      bonus:
        - {{id: lian, per_event: {{fact: registered, points: 0.5}}}}
"""


def ts(d: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME text format (China time, as every stored moment is)
    return d.strftime("%Y-%m-%d %H:%M:%S.%f")


def populate(path: Path, grids: list[str], n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    # Bulk load without the secondary indexes, then build them once (as a real import would).
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
                           "AND tbl_name IN ('cases', 'case_facts')").fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    start = datetime(2025, 1, 1)
    classes = ["mdjf_linli", "szhj_laji", "aqyh_xiaofang", "jcss_daolu", "msfw_qita"]
    case_sql = ("INSERT INTO cases (tenant, id, pack_id, pack_version, channel, event_class, ref_class, unit_code, "
                "state, level, handler_unit, lead, assist, priority, reported_at, due_at, closed_at, reported_by, "
                "event, decision, seq, supervised, vars) VALUES ('bench',?,'bench.county','1.0.0','grid_patrol',?,?,?,"
                "?,'grid',?,?,'[]',0,?,?,?,?,'{}','{}',5,0,'{}')")
    fact_sql = ("INSERT INTO case_facts (tenant, case_id, seq, fact, at, unit_code, handler_unit, lead, actor, reporter,"
                " event_class, ref_class, channel, zone, reported_at, closed_at) VALUES "
                "('bench',?,?,?,?,?,?,?,?,?,?,?,'grid_patrol',NULL,?,?)")
    batch_c, batch_f = [], []
    for i in range(n):
        cid = f"c{i:07d}"
        unit = grids[rng.randrange(len(grids))]
        cls = classes[i % 5]
        lead = "d1" if i % 3 else "d2"
        reporter = f"w{rng.randrange(8000)}"
        rep = start + timedelta(seconds=rng.randrange(365 * 86400))
        due = rep + timedelta(days=5)
        closed = rep + timedelta(hours=rng.randrange(1, 160)) if rng.random() < 0.92 else None
        state = "closed" if closed else "dispatched"
        batch_c.append((cid, cls, cls, unit, state, unit, lead, ts(rep), None if closed else ts(due),
                        ts(closed) if closed else None, reporter))
        common = (unit, unit, lead)
        tail = (reporter, cls, cls, ts(rep))
        facts = [(1, "reported", rep, reporter), (1, "accepted", rep, "center")]
        if rng.random() < 0.9:
            facts += [(2, "registered", rep + timedelta(minutes=20), "center"),
                      (3, "dispatched", rep + timedelta(minutes=40), "center")]
        if closed:
            facts += [(4, "handled", closed - timedelta(minutes=30), lead), (5, "closed", closed, "center")]
            if rng.random() < 0.05:
                facts.append((4, "reworked", closed - timedelta(minutes=20), "center"))
            if rng.random() < 0.5:
                facts.append((6, "visited", closed + timedelta(days=1), "center"))
                if rng.random() < 0.9:
                    facts.append((6, "satisfied", closed + timedelta(days=1), "center"))
        for seq, fact, at, actor in facts:
            batch_f.append((cid, seq, fact, ts(at), *common, actor, *tail, None))
        batch_f.append((cid, 0, "due", ts(due), *common, None, *tail, ts(closed) if closed else None))
        if len(batch_c) >= 50_000:
            conn.executemany(case_sql, batch_c)
            conn.executemany(fact_sql, batch_f)
            batch_c, batch_f = [], []
    conn.executemany(case_sql, batch_c)
    conn.executemany(fact_sql, batch_f)
    for _, sql in indexes:
        conn.execute(sql)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--grids", type=int, default=5000)
    ap.add_argument("--keep", type=Path, default=None, help="reuse/keep this SQLite file")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from wangge.core.pack.loader import load_pack
    from wangge.core.scoring import compute_indicators, parse_period, score
    from wangge.core.store import open_database

    tmp = Path(tempfile.mkdtemp(prefix="wangge-bench-"))
    (tmp / "pack.yaml").write_text(PACK.format(per_village=args.grids // 250), encoding="utf-8")
    pack = load_pack(tmp / "pack.yaml")
    grids = [u.code for u in pack.grid.units_at("grid")]
    db_path = args.keep or tmp / "bench.sqlite"
    fresh = not db_path.exists()
    db = open_database(f"sqlite:///{db_path}")
    if fresh:
        db.engine.dispose()  # release the migration's connection before the raw bulk load
        t = time.perf_counter()
        populate(db_path, grids, args.cases)
        print(f"stored {args.cases:,} cases + facts for {len(grids):,} grids in {time.perf_counter() - t:.1f} s")
    period = parse_period("2025-06")
    print(f"indicators: {len(pack.indicators)} declared; period {period.label}; target {TARGET:.1f} s")
    results = []
    for label, run in (
        ("grid level (5,000 units)", lambda: compute_indicators(db, "bench", pack, period, level="grid")),
        ("township level", lambda: compute_indicators(db, "bench", pack, period, level="township")),
        ("score every grid (no case ids)", lambda: score(db, "bench", pack, period, "grid", explain=False)),
    ):
        db.engine.dispose()  # cold: a new connection, nothing cached in the process
        t = time.perf_counter()
        out = run()
        dt = time.perf_counter() - t
        results.append(dt)
        print(f"  {label:32s} {len(out):6,} values  {dt:6.3f} s  {'OK' if dt < TARGET else 'SLOW'} (< {TARGET:.0f} s)")
    db.dispose()
    sys.exit(0 if all(r < TARGET for r in results[:2]) else 1)


if __name__ == "__main__":
    main()
