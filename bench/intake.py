"""Event intake over HTTP under load: the real intake (validate, route, store, audit) against a bare
Starlette endpoint that only inserts the JSON body into the same database, in the same run.

    .venv/bin/python bench/intake.py                     # SQLite (WAL) and PostgreSQL, 10 s each, 16 connections
    .venv/bin/python bench/intake.py --db sqlite --duration 5 --workers 1

Both servers run as ``wangge serve --workers N`` runs the portal (``wangge.web.server``; uvloop/httptools
when installed: ``pip install -e .[bench]``), N = --workers, by default the CPU count. The bare endpoint
is measured with 1 worker and with N, and the faster of the two is the baseline. The load comes from
``wrk`` (apt-get install wrk) in a separate process on 127.0.0.1, posting varied events with unique ids,
reported one second apart from six hours before the run (as a live stream is: fixed dates in the past
would make every case overdue at once, and the portal's escalation loop would escalate them all during
the run; the same bodies go to both servers). Afterwards the
rows are counted: every 2xx answer must have its row
(requests still in flight when wrk stops may add up to --connections rows more; none may be missing).
Target: intake rate ≥ 0.5 × the baseline's rate and intake p99 < 20 ms.
PostgreSQL: $WANGGE_TEST_PG_URL or postgresql://postgres@127.0.0.1:5432/test, in a fresh schema.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_PACK = ROOT / "examples" / "counties" / "binzhou-pengli"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
TENANT = "bench"
RAW_DDL = {"sqlite": "CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, body TEXT NOT NULL)",
           "postgresql": "CREATE TABLE IF NOT EXISTS bench_raw (id BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL, body TEXT NOT NULL)"}


# ---------------------------------------------------------------------------------------- servers

def bare_app(url: str):  # type: ignore[no-untyped-def]
    """Parse the JSON body, insert it, commit, answer 201 — nothing else (the baseline)."""
    from sqlalchemy import text
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from wangge.core.store import open_database

    db = open_database(url, upgrade=False)
    conn = db.engine.connect()          # one connection, used on the event loop: the cheapest way there is
    insert = text("INSERT INTO bench_raw (tenant, body) VALUES (:tenant, :body)")

    async def post(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        conn.execute(insert, {"tenant": TENANT, "body": json.dumps(body, ensure_ascii=False)})
        conn.commit()
        return JSONResponse({"ok": True}, status_code=201)

    return Starlette(routes=[Route("/{county}/api/v1/events", post, methods=["POST"])])


def intake_app(url: str, pack: str):  # type: ignore[no-untyped-def]
    """The whole portal (``create_app``, as ``wangge serve`` builds it: sessions, CSRF, plugins' observer,
    the outbox and escalation loops) serving one county, the pack's folder name being ``bench``."""
    from wangge.core.pack.loader import PackLoader
    from wangge.core.store import open_database
    from wangge.web.app import create_app
    from wangge.web.deployment import County, Deployment

    db = open_database(url, upgrade=False)
    county = County(TENANT, PackLoader().load(pack), Path(pack))
    deployment = Deployment({TENANT: county}, db, b"bench" * 8, Path(tempfile.mkdtemp(prefix="wangge-bench-data-")))
    return create_app(deployment), deployment


SERVER_ENV = "WANGGE_BENCH_SERVER"


def worker_app():  # type: ignore[no-untyped-def]
    """uvicorn factory of each worker process (``intake:worker_app``; this folder is on their path)."""
    from wangge.web.server import ready

    kind, url, pack = json.loads(os.environ[SERVER_ENV])
    if kind == "bare":
        return bare_app(url)
    app, deployment = intake_app(url, pack)
    ready(deployment)
    return app


def serve(kind: str, url: str, pack: str, port: int, workers: int) -> None:
    """Both servers run as ``wangge serve [--workers N]`` runs the portal (wangge.web.server)."""
    from wangge.web.server import run, run_workers

    extras = {}
    try:
        import uvloop  # noqa: F401
        extras["loop"] = "uvloop"
    except ImportError:
        pass
    try:
        import httptools  # noqa: F401
        extras["http"] = "httptools"
    except ImportError:
        pass
    options = dict(host="127.0.0.1", port=port, log_level="warning", access_log=False, **extras)
    if workers > 1:
        run_workers("intake:worker_app", {SERVER_ENV: json.dumps([kind, url, pack])}, workers, **options)
        return
    app, deployment = (bare_app(url), None) if kind == "bare" else intake_app(url, pack)
    run(app, deployment, **options)


# ---------------------------------------------------------------------------------------- load

LUA = r"""
local classes = {%(classes)s}
local units = {%(units)s}
local channels = {%(channels)s}
local counter = 0
local START = os.time() - 21600   -- events are reported one second apart from six hours ago: a live stream
tid = 0   -- global: setup() gives each thread its own value via thread:set
local threads = {}
function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
  table.insert(threads, thread)
end
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer %(token)s"
end
function request()
  counter = counter + 1
  local c = classes[(counter %% #classes) + 1]
  local u = units[((counter * 7) %% #units) + 1]
  local ch = channels[((counter * 3) %% #channels) + 1]
  local id = "%(run)s-" .. tid .. "-" .. counter
  local body = '{"id":"' .. id .. '","class":"' .. c .. '","channel":"' .. ch .. '","unit":"' .. u ..
    '","reported_at":"' .. os.date("!%%Y-%%m-%%dT%%H:%%M:%%SZ", START + counter) .. '","urgency":"normal","people":' .. (counter %% 5) ..
    ',"title":"压测事件 ' .. counter .. '","description":"楼道堆放杂物,影响通行","external_id":"' .. id .. '"}'
  return wrk.format(nil, "/%(tenant)s/api/v1/events", nil, body)
end
function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format('BENCH {"requests":%%d,"non2xx":%%d,"socket_errors":%%d,"duration_us":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d}\n',
    summary.requests, non2xx, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def lua_script(pack_path: str, token: str, run: str) -> str:
    from wangge.core.pack.loader import PackLoader

    pack = PackLoader().load(pack_path)
    classes = [c.id for c in pack.events.subclasses()][:60] or [c.id for c in pack.events.classes.values()]
    deepest = pack.grid.levels[-1].id
    units = [u.code for u in pack.grid.units_at(deepest)][:100]
    channels = [c.id for c in pack.channels.values()][:10]
    q = lambda xs: ",".join(f'"{x}"' for x in xs)  # noqa: E731
    return LUA % {"classes": q(classes), "units": q(units), "channels": q(channels), "token": token, "run": run,
                  "tenant": TENANT}


@dataclass
class Result:
    name: str
    rps: float
    ok: int
    p50_ms: float
    p99_ms: float
    rows: int

    @property
    def lost(self) -> int:
        return max(0, self.ok - self.rows)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def run_one(name: str, kind: str, workers: int, url: str, pack: str, script, args: argparse.Namespace,  # type: ignore[no-untyped-def]
            count_rows) -> Result:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, __file__, "serve", kind, url, pack, str(port), str(workers)]
    if args.profile and kind == "intake":
        # Sample the intake server with py-spy (pip install py-spy): collapsed stacks for flame graphs.
        command = ["py-spy", "record", "--gil", "--subprocesses", "-r", "200", "-f", "raw", "-o", args.profile, "--",
                   *command]
    # A session of its own: whatever the server leaves behind (its worker processes, when py-spy is
    # interrupted before them) is stopped with it below, not left serving into the next measurement.
    proc = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        wait_up(port, proc)
        before = count_rows()
        # A short warm-up so both servers are measured hot (imports, caches, connection pools).
        subprocess.run(["wrk", "-t1", "-c4", "-d1s", "-s", str(script()), f"http://127.0.0.1:{port}"],
                       capture_output=True, check=True)
        before = count_rows()
        out = subprocess.run(["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
                              "--timeout", "10s", "-s", str(script()), f"http://127.0.0.1:{port}"],
                             capture_output=True, text=True, check=True).stdout
        time.sleep(0.5)   # let in-flight requests finish before counting
        rows = count_rows() - before
    finally:
        proc.send_signal(2 if args.profile else 15)   # SIGINT lets py-spy write its profile
        proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    data = json.loads(line[len("BENCH "):])
    ok = data["requests"] - data["non2xx"]
    if data["non2xx"] or data["socket_errors"]:
        print(f"  ! {name}: {data['non2xx']} non-2xx, {data['socket_errors']} socket errors", file=sys.stderr)
    return Result(name, ok / (data["duration_us"] / 1e6), ok, data["p50_us"] / 1000, data["p99_us"] / 1000, rows)


def bench_database(label: str, url: str, pack: str, args: argparse.Namespace) -> tuple[list[Result], Result]:
    from sqlalchemy import func, select, text

    from wangge.core.store import open_database
    from wangge.core.store.tables import cases
    from wangge.web.api.auth import create_token

    db = open_database(url)
    with db.engine.begin() as conn:
        conn.execute(text(RAW_DDL[db.dialect]))
    token = create_token(db, TENANT, "bench", ["events:write"])[1]
    workdir = Path(tempfile.mkdtemp(prefix="wangge-bench-"))

    def scripts() -> Path:
        """A fresh script per wrk run: ids (and external ids) never repeat across runs."""
        path = workdir / f"{uuid.uuid4().hex}.lua"
        path.write_text(lua_script(pack, token, uuid.uuid4().hex[:10]), encoding="utf-8")
        return path

    def raw_rows() -> int:
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM bench_raw")).scalar_one()

    def case_rows() -> int:
        with db.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(cases).where(cases.c.tenant == TENANT)).scalar_one()

    bares = []
    for workers in sorted({1, args.workers}):
        print(f"[{label}] bare endpoint, {workers} worker(s) …", flush=True)
        bares.append(run_one(f"{label} bare ×{workers}", "bare", workers, url, pack, scripts, args, raw_rows))
    print(f"[{label}] intake, {args.workers} worker(s) …", flush=True)
    real = run_one(f"{label} intake ×{args.workers}", "intake", args.workers, url, pack, scripts, args, case_rows)
    db.dispose()
    shutil.rmtree(workdir, ignore_errors=True)
    return bares, real


def pg_fresh_schema(base: str) -> tuple[str, callable]:  # type: ignore[valid-type]
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{base}{sep}options=-csearch_path%3D{schema}", drop


def report(bares: list[Result], real: Result) -> bool:
    """The baseline is the bare endpoint's faster configuration, so adding workers cannot flatter the ratio."""
    bare = max(bares, key=lambda r: r.rps)
    ratio = real.rps / bare.rps if bare.rps else 0.0
    ok = ratio >= 0.5 and real.p99_ms < 20 and real.lost == 0 and all(b.lost == 0 for b in bares)
    for r in (*bares, real):
        mark = "  ← baseline" if r is bare and len(bares) > 1 else ""
        print(f"  {r.name:<22} {r.rps:9,.0f} req/s   p50 {r.p50_ms:6.2f} ms   p99 {r.p99_ms:6.2f} ms   "
              f"2xx {r.ok:,}   rows {r.rows:,}   lost {r.lost}{mark}")
    print(f"  ratio intake/bare = {ratio:.2f} (target ≥ 0.50), intake p99 {real.p99_ms:.2f} ms (target < 20)"
          f"  → {'MET' if ok else 'MISSED'}")
    return ok


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="server worker processes (wangge serve --workers); default: the CPU count")
    parser.add_argument("--pack", default=str(DEFAULT_PACK))
    parser.add_argument("--profile", default="", help="py-spy collapsed stacks of the intake server to this file")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    random.seed(0)
    results = []
    if args.db in ("sqlite", "both"):
        tmp = Path(tempfile.mkdtemp(prefix="wangge-bench-db-"))
        try:
            results.append(("SQLite (WAL)", *bench_database("sqlite", f"sqlite:///{tmp / 'bench.sqlite'}", args.pack, args)))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.db in ("postgres", "both"):
        url, drop = pg_fresh_schema(os.environ.get("WANGGE_TEST_PG_URL") or PG_DEFAULT)
        try:
            results.append(("PostgreSQL", *bench_database("postgres", url, args.pack, args)))
        finally:
            drop()
    print()
    met = True
    for label, bares, real in results:
        print(label)
        met &= report(bares, real)
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
