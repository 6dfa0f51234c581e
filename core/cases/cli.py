"""``wangge cases …``: list and act on stored cases from the terminal (registered in core/cli.py)."""
from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ..pack.loader import PackLoader
from ..pack.problems import PackError
from ..routing import Router
from ..store import open_database
from ..store.db import DEFAULT_URL
from ..workcal import as_shanghai
from ..workflow import Actor, WorkflowError
from .escalation import tick as run_tick
from .service import (
    CaseNotFound,
    ConcurrentUpdate,
    act,
    actions_for,
    get_case,
    list_cases,
    open_case,
)

DB = click.option("--db", "db_url", default=lambda: os.environ.get("WANGGE_DB", DEFAULT_URL), show_default="sqlite:///wangge.sqlite",
                  help="数据库 URL (SQLite 或 PostgreSQL);也可用环境变量 WANGGE_DB")
TENANT = click.option("--tenant", default=lambda: os.environ.get("WANGGE_TENANT", ""),
                      help="县(租户)id,默认取规则包 id;也可用环境变量 WANGGE_TENANT")
NOW = click.option("--now", "now_text", default=None, help="当作当前时间 (ISO 8601),用于演练和测试")


def _now(text: str | None) -> datetime:
    return as_shanghai(datetime.fromisoformat(text)) if text else as_shanghai(datetime.now().astimezone())


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _need_tenant(tenant: str) -> str:
    if not tenant:
        _fail("请用 --tenant 指定县(租户)id (or set WANGGE_TENANT)")
    return tenant


@click.group("cases")
def cases_group() -> None:
    """案件:列表、查看、办理、超期升级 (stored cases)."""


@cases_group.command("list")
@DB
@TENANT
@click.option("--state", default=None, help="只列出该状态")
@click.option("--overdue", is_flag=True, help="只列出已超期未结案的")
@click.option("--limit", default=50, show_default=True)
@NOW
@click.option("--json", "as_json", is_flag=True)
def list_command(db_url: str, tenant: str, state: str | None, overdue: bool, limit: int, now_text: str | None,
                 as_json: bool) -> None:
    db = open_database(db_url)
    rows = list_cases(db, _need_tenant(tenant), state, overdue, _now(now_text), limit)
    if as_json:
        click.echo(json.dumps([c.to_json() for c in rows], ensure_ascii=False, indent=2))
        return
    for c in rows:
        due = c.due_at.strftime("%Y-%m-%d %H:%M") if c.due_at else "-"
        flag = " 督办" if c.supervised else ""
        click.echo(f"{c.id}  {c.state:<12} {c.level:<9} 主办={c.lead or '-':<14} 期限={due}{flag}  {c.event.get('title', '')}")
    click.echo(f"共 {len(rows)} 件", err=True)


@cases_group.command("show")
@click.argument("case_id")
@DB
@TENANT
@click.option("--json", "as_json", is_flag=True)
def show_command(case_id: str, db_url: str, tenant: str, as_json: bool) -> None:
    db = open_database(db_url)
    try:
        case = get_case(db, _need_tenant(tenant), case_id)
    except CaseNotFound as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps(case.to_json(), ensure_ascii=False, indent=2))
        return
    click.echo(f"案件 {case.id}  {case.pack_id}@{case.pack_version}  状态 {case.state}  层级 {case.level}  "
               f"主办 {case.lead or '-'}  协办 {', '.join(case.assist) or '-'}" + ("  督办" if case.supervised else ""))
    for s in case.history:
        rule = f" [规则 {s.rule}]" if s.rule else ""
        click.echo(f"  {s.seq:>3} {s.at:%Y-%m-%d %H:%M} {s.actor} ({s.role}) {s.action}: {s.from_state or '-'} → {s.to_state}{rule}"
                   + (f"  {s.note}" if s.note else ""))


@cases_group.command("act")
@click.argument("case_id")
@click.argument("action")
@click.option("--as", "role", required=True, help="角色 id、department:<部门 id>、reporter 等")
@click.option("--unit", default=None, help="执行人所在网格单元编码(部门可省略)")
@click.option("--actor", "actor_id", default=None, help="执行人标识")
@click.option("--note", default="", help="意见或理由")
@click.option("--data", "data_text", default=None, help="动作数据 JSON,如 '{\"lead\": \"zhifa\"}'")
@DB
@TENANT
@NOW
def act_command(case_id: str, action: str, role: str, unit: str | None, actor_id: str | None, note: str,
                data_text: str | None, db_url: str, tenant: str, now_text: str | None) -> None:
    db = open_database(db_url)
    actor = Actor.of(role, unit, actor_id)
    try:
        case = act(db, _need_tenant(tenant), None, case_id, action, actor, note,
                   json.loads(data_text) if data_text else None, now=_now(now_text))
    except WorkflowError as exc:
        try:
            allowed = actions_for(db, tenant, case_id, actor)
        except CaseNotFound:
            allowed = ()
        _fail(f"{exc.code} {exc.message}" + (f"\n    hint: 你现在可以: {', '.join(allowed)}" if allowed else ""))
    except (CaseNotFound, ConcurrentUpdate) as exc:
        _fail(str(exc))
    click.echo(f"ok  {case.id}  → {case.state}  (seq {case.seq})")


@cases_group.command("open")
@click.argument("pack_path", type=click.Path(path_type=Path))
@click.option("--event", "event_text", required=True, help="事件 JSON(或 @文件名)")
@click.option("--as", "role", default="grid_worker", show_default=True)
@click.option("--unit", default=None)
@DB
@TENANT
@NOW
def open_command(pack_path: Path, event_text: str, role: str, unit: str | None, db_url: str, tenant: str,
                 now_text: str | None) -> None:
    try:
        pack = PackLoader().load(pack_path)
    except PackError as exc:
        _fail(str(exc))
    raw = json.loads(Path(event_text[1:]).read_text(encoding="utf-8") if event_text.startswith("@") else event_text)
    from ..events import EventError, parse_event  # noqa: PLC0415

    try:
        event = parse_event(raw, pack)
    except EventError as exc:
        _fail(f"事件不符合规则包: {exc}")
    decision = _route(pack, event)
    db = open_database(db_url)
    case = open_case(db, tenant or pack.id, pack, event, decision, Actor.of(role, unit or event.unit), now=_now(now_text))
    click.echo(f"ok  {case.id}  {case.state}  {case.level}  主办={case.lead or '-'}")


def _route(pack: Any, event: Any) -> Any:
    return Router.from_pack(pack).decide(event)


@cases_group.command("tick")
@DB
@click.option("--worker", default=lambda: f"cli-{os.getpid()}", help="工作进程标识")
@click.option("--limit", default=1000, show_default=True)
@NOW
def tick_command(db_url: str, worker: str, limit: int, now_text: str | None) -> None:
    """执行一次超期升级 (run one escalation tick)."""
    db = open_database(db_url)
    report = run_tick(db, _now(now_text), worker, limit)
    click.echo(f"claimed {report.claimed}  escalated {report.escalated}  skipped {report.skipped}  conflicts {report.conflicts}")
