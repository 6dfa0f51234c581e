"""``wangge plugins list|check`` and ``wangge outbox deliver|list`` (added through the ``wangge.cli`` group)."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from . import hooks
from .pack.problems import PackError


def _load(path: Path, search: tuple[Path, ...]):  # type: ignore[no-untyped-def]
    from .pack.loader import PackLoader

    try:
        return PackLoader(search).load(path)
    except PackError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


@click.group()
def plugins() -> None:
    """插件 (plugins): 列出已安装的插件、检查规则包启用的插件。"""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON 输出")
def list_plugins(as_json: bool) -> None:
    """列出已安装的插件及其实现的钩子 (installed plugins and their hooks)."""
    infos = hooks.describe(hooks.plugin_manager(all_installed=True))
    if as_json:
        click.echo(json.dumps([i.__dict__ for i in infos], ensure_ascii=False, indent=2))
        return
    for info in infos:
        tag = "内置" if info.builtin else "安装"
        click.echo(f"{info.name:<20} {tag} {info.version:<8} {info.module}")
        click.echo(f"    hooks: {', '.join(info.hooks) or '-'}")


@plugins.command("check")
@click.argument("pack_path", type=click.Path(path_type=Path))
@click.option("--path", "search", multiple=True, type=click.Path(path_type=Path), help="基础包所在文件夹")
def check_plugins(pack_path: Path, search: tuple[Path, ...]) -> None:
    """检查规则包启用的插件:是否已安装、设置是否正确;有问题时退出码为 1。"""
    pack = _load(pack_path, search)
    installed = {ep.name for ep in hooks.installed_entry_points()} | set(hooks.BUILTINS)
    failed = False
    entries = getattr(pack, "plugins", {}) or {}
    if not entries:
        click.echo(f"{pack.id}: 未启用插件 (no plugins enabled)")
    for name, entry in entries.items():
        if not entry.enabled:
            click.echo(f"-   {name}: 已停用 (disabled)")
        elif name in installed:
            click.echo(f"ok  {name}: 已安装 (installed)")
        else:
            failed = True
            click.echo(f"错误 {name}: 未安装;请 pip install 提供入口点 wangge:{name} 的包 (not installed)", err=True)
    pm = hooks.plugin_manager(hooks.enabled_plugins(pack))
    for plugin, problem in hooks.check_pack(pm, hooks.context_for(pack)):
        failed = True
        click.echo(f"错误 {plugin}: {problem}", err=True)
    if failed:
        sys.exit(1)


@click.group("outbox")
def outbox_group() -> None:
    """发件箱 (outbox): 投递待发送的通知。"""


@outbox_group.command("deliver")
@click.option("--db", "db_url", required=True, help="数据库 URL, e.g. sqlite:///wangge.sqlite")
@click.option("--pack", "pack_path", type=click.Path(path_type=Path), required=True,
              help="规则包(决定启用哪些插件及其设置)")
@click.option("--tenant", default="", help="只投递这个租户的消息;默认为规则包 id")
@click.option("--limit", default=50, show_default=True)
@click.option("--timeout", "attempt_timeout", default=10.0, show_default=True, help="每次发送的时限(秒)")
@click.option("--path", "search", multiple=True, type=click.Path(path_type=Path), help="基础包所在文件夹")
def deliver(db_url: str, pack_path: Path, tenant: str, limit: int, attempt_timeout: float,
            search: tuple[Path, ...]) -> None:
    """投递一轮到期的消息 (one delivery pass); 打印每条结果。"""
    from .outbox import deliver_due
    from .store import open_database

    pack = _load(pack_path, search)
    tenant = tenant or pack.id
    context = hooks.context_for(pack, tenant)
    senders = hooks.senders(hooks.plugin_manager(hooks.enabled_plugins(pack)), context)
    db = open_database(db_url)
    try:
        report = deliver_due(db, senders, datetime.now(timezone.utc), limit=limit,
                             attempt_timeout=attempt_timeout, tenant=tenant)
    finally:
        db.dispose()
    for o in report.outcomes:
        click.echo(f"{o.status:<8} {o.kind:<14} {o.id} 第{o.attempt}次 {o.error}")
    click.echo(f"sent {report.sent}, retrying {report.retrying}, dead {report.dead}")


@outbox_group.command("list")
@click.option("--db", "db_url", required=True)
@click.option("--tenant", required=True)
@click.option("--status", type=click.Choice(["pending", "sent", "dead"]))
def list_messages(db_url: str, tenant: str, status: str | None) -> None:
    """列出发件箱中的消息。"""
    from .outbox import messages
    from .store import open_database

    db = open_database(db_url)
    try:
        for m in messages(db, tenant, status=status):
            click.echo(f"{m.status:<8} {m.kind:<14} {m.id} 第{m.attempts}次 → {m.target} {m.last_error}")
    finally:
        db.dispose()
