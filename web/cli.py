"""``wangge serve``, ``wangge admin create`` and ``wangge users add`` (entry-point group ``wangge.cli``)."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from wangge.core.pack.problems import PackError
from wangge.core.store.db import DEFAULT_URL

DB_OPTION = click.option("--db", "db_url", default=DEFAULT_URL, show_default=True,
                         help="数据库 URL (sqlite:///… 或 postgresql://…)")
DATA_OPTION = click.option("--data-dir", type=click.Path(path_type=Path), default=Path("wangge-data"),
                           show_default=True, help="数据目录:会话密钥、规则包版本文件")


def _deployment(packs: tuple[Path, ...], db_url: str, data_dir: Path, secret: str | None = None):  # type: ignore[no-untyped-def]
    from .deployment import open_deployment  # noqa: PLC0415  (keeps `wangge --help` fast)

    try:
        return open_deployment(list(packs), db_url, secret, data_dir)
    except PackError as exc:
        click.echo(f"规则包有错误,无法启动 (pack errors):\n{exc}", err=True)
        sys.exit(1)


@click.command()
@click.argument("packs", nargs=-1, type=click.Path(exists=True, path_type=Path))
@DB_OPTION
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址;内网服务请设为 0.0.0.0")
@click.option("--secret", envvar="WANGGE_SECRET", default=None,
              help="会话签名密钥 (或 $WANGGE_SECRET;缺省时在数据目录生成)")
@DATA_OPTION
@click.option("--https-only", is_flag=True, help="会话 Cookie 仅经 HTTPS 发送 (behind TLS)")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="工作进程数,多核服务器可设为 CPU 核数 (worker processes)")
def serve(packs: tuple[Path, ...], db_url: str, port: int, host: str, secret: str | None, data_dir: Path,
          https_only: bool, workers: int) -> None:
    """运行门户 (serve the portal); 不给规则包时服务全部示例县 (every example county)."""
    from .app import create_app  # noqa: PLC0415
    from .auth import has_admin  # noqa: PLC0415
    from .deployment import SECRET_ENV  # noqa: PLC0415
    from .server import PortalSpec, calendar_warnings, run, run_workers  # noqa: PLC0415

    deployment = _deployment(packs, db_url, data_dir, secret)
    assert deployment.registry is not None
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    click.echo(f"wangge 门户: {base}/  ({len(deployment.counties)} 个县区, 数据库 {db_url})")
    for slug, county in deployment.counties.items():
        warning = deployment.registry.record_initial(slug)
        if warning:
            click.echo(f"  注意: {warning}", err=True)
        mark = "" if has_admin(deployment.database, slug) else "  (尚无管理员)"
        click.echo(f"  {base}/{slug}/  {county.pack.manifest.name}{mark}")
    for warning in calendar_warnings(deployment, date.today()):
        click.echo(f"  注意: {warning}", err=True)
    missing = [s for s in deployment.counties if not has_admin(deployment.database, s)]
    if missing:
        db_arg = "" if db_url == DEFAULT_URL else f" --db {db_url}"
        click.echo(f"创建第一个管理员 (create the first administrator):\n"
                   f"  wangge admin create {missing[0]} 用户名 --role admin{db_arg}")
    if workers == 1:
        run(create_app(deployment, https_only=https_only), deployment, host=host, port=port, log_level="info",
            proxy_headers=False)
        return
    deployment.database.dispose()   # each worker opens its own; this process only supervises them
    environ = PortalSpec(tuple(str(p.resolve()) for p in packs), db_url, str(data_dir), https_only).environ()
    if secret:   # given on the command line: the workers must sign sessions with the same key
        environ[SECRET_ENV] = secret
    run_workers("wangge.web.server:portal_app", environ, workers, host=host, port=port, log_level="info",
                proxy_headers=False)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("密码 (password)", hide_input=True, confirmation_prompt=True)


def _county_pack(slug: str, packs: tuple[Path, ...], db_url: str, data_dir: Path):  # type: ignore[no-untyped-def]
    deployment = _deployment(packs, db_url, data_dir)
    if deployment.county(slug) is None:
        click.echo(f"没有县区 {slug};可选: {', '.join(deployment.counties)}", err=True)
        sys.exit(2)
    return deployment, deployment.pack(slug)


def _add(slug: str, username: str, role: str, unit: str | None, display_name: str, password_stdin: bool,
         packs: tuple[Path, ...], db_url: str, data_dir: Path, action: str) -> None:
    from . import audit  # noqa: PLC0415
    from .auth import UserError, add_user  # noqa: PLC0415

    deployment, pack = _county_pack(slug, packs, db_url, data_dir)
    password = _password(password_stdin)
    try:
        user = add_user(deployment.database, pack, slug, username, password, role, unit, display_name)
    except UserError as exc:
        click.echo(f"错误: {exc}", err=True)
        sys.exit(1)
    with deployment.database.engine.begin() as conn:
        audit.record(conn, slug, "cli", action, {"username": user.username, "role": role, "unit": unit})
    click.echo(f"已创建用户 {user.username} ({role}{' @' + unit if unit else ''}) @ {slug}")


PACKS_OPTION = click.option("--pack", "packs", multiple=True, type=click.Path(exists=True, path_type=Path),
                            help="规则包文件夹 (缺省: 全部示例县); 可重复")


@click.group()
def admin() -> None:
    """政法委管理员 (administrators)."""


@admin.command("create")
@click.argument("county")
@click.argument("username")
@click.option("--role", default="admin", show_default=True, type=click.Choice(["admin"]))
@click.option("--unit", default=None, help="限定到某个单元 (缺省: 全县)")
@click.option("--name", "display_name", default="", help="姓名")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码")
@PACKS_OPTION
@DB_OPTION
@DATA_OPTION
def admin_create(county: str, username: str, role: str, unit: str | None, display_name: str, password_stdin: bool,
                 packs: tuple[Path, ...], db_url: str, data_dir: Path) -> None:
    """创建管理员 (create an administrator of COUNTY)."""
    _add(county, username, role, unit, display_name, password_stdin, packs, db_url, data_dir, "admin.create")


@click.group()
def users() -> None:
    """门户用户 (portal users)."""


@users.command("add")
@click.argument("county")
@click.argument("username")
@click.option("--role", required=True, help="规则包角色 id、dept:<部门 id>、admin 或 resident")
@click.option("--unit", default=None, help="网格单元编码")
@click.option("--name", "display_name", default="", help="姓名")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码")
@PACKS_OPTION
@DB_OPTION
@DATA_OPTION
def users_add(county: str, username: str, role: str, unit: str | None, display_name: str, password_stdin: bool,
              packs: tuple[Path, ...], db_url: str, data_dir: Path) -> None:
    """添加用户 (add a user to COUNTY)."""
    _add(county, username, role, unit, display_name, password_stdin, packs, db_url, data_dir, "user.add")


@users.command("list")
@click.argument("county")
@PACKS_OPTION
@DB_OPTION
@DATA_OPTION
def users_list(county: str, packs: tuple[Path, ...], db_url: str, data_dir: Path) -> None:
    """列出用户 (list users of COUNTY)."""
    from .auth import list_users, role_info  # noqa: PLC0415

    deployment, pack = _county_pack(county, packs, db_url, data_dir)
    for u in list_users(deployment.database, county):
        info = role_info(pack, u.role)
        click.echo(f"{u.username}\t{info.name if info else u.role}\t{u.unit_code or '全县'}")
