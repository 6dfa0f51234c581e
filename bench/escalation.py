"""Escalation bench: a tick costs in proportion to the deadlines due, not to the open cases.

    .venv/bin/python bench/escalation.py            # 100,000 and 1,000,000 open cases (SQLite, temp files)
    .venv/bin/python bench/escalation.py --sizes 100000

For each size it bulk-inserts open cases with a handle deadline each (executemany), all far in the future,
then makes k of them due (k = 10, 100, 1,000) and times one escalation tick. It prints the query plan of the
claim query, which must be a range scan of ix_deadlines_tenant_done_due_at.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from wangge.core.cases import open_case, tick
from wangge.core.cases.escalation import due_query
from wangge.core.pack.loader import load_pack
from wangge.core.store import open_database
from wangge.core.workcal import SHANGHAI
from wangge.core.workflow import Actor

ROOT = Path(__file__).resolve().parents[1]
TENANT = "cn.sx.taiyuan.qingxu"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
FMT = "%Y-%m-%d %H:%M:%S.%f"   # how SQLAlchemy stores DateTime in SQLite (Beijing wall time here)


def build(path: Path, n: int) -> tuple[str, dict]:
    url = f"sqlite:///{path}"
    db = open_database(url)
    pack = load_pack(ROOT / "examples" / "counties" / "taiyuan-qingxu")
    unit = next(u.code for u in pack.grid.units.values() if u.level == "grid")
    ev = {"id": "e0", "class": "srhj_baolu", "channel": "grid_patrol", "unit": unit, "reported_at": NOW.isoformat()}
    template = open_case(db, TENANT, pack, ev, {"time_limit": "5工作日", "lead": "zhujian"}, Actor("w", "grid_worker"), now=NOW)
    db.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    row = con.execute("SELECT * FROM cases WHERE id=?", (template.id,)).fetchone()
    cols = [d[0] for d in con.execute("SELECT * FROM cases LIMIT 0").description]
    base = dict(zip(cols, row))
    base.update(state="dispatched", lead="zhujian")
    far = (NOW + timedelta(days=365)).strftime(FMT)
    chunk = 50_000
    for start in range(0, n - 1, chunk):
        ids = [str(uuid.uuid4()) for _ in range(min(chunk, n - 1 - start))]
        con.executemany(f"INSERT INTO cases ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                        [tuple({**base, "id": i, "external_id": None}[c] for c in cols) for i in ids])
        con.executemany("INSERT INTO deadlines (tenant, case_id, kind, due_at, deadline_at, stage, done, state) "
                        "VALUES (?, ?, 'handle', ?, ?, 0, 0, 'dispatched')", [(TENANT, i, far, far) for i in ids])
        con.commit()
    con.execute("ANALYZE")
    con.commit()
    con.close()
    return url, base


def make_due(path: Path, k: int) -> None:
    con = sqlite3.connect(path)
    past = (NOW - timedelta(days=1)).strftime(FMT)
    con.execute("UPDATE deadlines SET due_at=?, deadline_at=? WHERE rowid IN "
                "(SELECT rowid FROM deadlines WHERE tenant=? AND done=0 AND stage=0 ORDER BY random() LIMIT ?)",
                (past, past, TENANT, k))
    con.commit()
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--ks", type=int, nargs="*", default=[10, 100, 1_000])
    args = parser.parse_args()
    results: dict[int, dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"bench-{n}.sqlite"
            t0 = time.perf_counter()
            url, _ = build(path, n)
            print(f"\n== {n:,} open cases (bulk insert {time.perf_counter() - t0:.1f} s)")
            db = open_database(url, upgrade=False)
            with db.engine.connect() as conn:
                sql = due_query(TENANT, NOW, 1000, NOW).compile(conn, compile_kwargs={"literal_binds": True})
                plan = [r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
            print("   claim query plan:", " | ".join(plan))
            results[n] = {}
            tick(db, NOW, "warm", 10)  # compiles the pinned pack once (cached per worker)
            for k in args.ks:
                make_due(path, k)
                t = time.perf_counter()
                report = tick(db, NOW, f"bench-{k}", limit=k)
                elapsed = time.perf_counter() - t
                results[n][k] = elapsed
                print(f"   k={k:>5}: tick {elapsed * 1000:8.1f} ms  ({elapsed / max(report.escalated, 1) * 1000:.2f} ms per due case; "
                      f"claimed {report.claimed}, escalated {report.escalated})")
            db.dispose()
    if len(results) > 1:
        small, big = min(results), max(results)
        print(f"\nsame k, {big // small}× more open cases:")
        for k in args.ks:
            print(f"   k={k:>5}: {results[small][k] * 1000:.1f} ms → {results[big][k] * 1000:.1f} ms "
                  f"(ratio {results[big][k] / results[small][k]:.2f})")
    print(json.dumps({str(n): {str(k): round(v * 1000, 1) for k, v in r.items()} for n, r in results.items()}))


if __name__ == "__main__":
    main()
