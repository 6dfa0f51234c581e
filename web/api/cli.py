"""``wangge tokens create|list|revoke`` — API tokens per county (entry-point group ``wangge.cli``).

COUNTY is the county's slug (its pack folder name, as in the URL /{county}/api/v1). The token is printed
once and only its sha256 is stored.
"""
from __future__ import annotations

import sys

import click
from wangge.core.store.db import DEFAULT_URL

from .auth import SCOPES, UNIT_PREFIX


@click.group()
def tokens() -> None:
    """API 令牌 (API tokens for integrations)."""


@tokens.command()
@click.argument("county")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(sorted(SCOPES)),
              help="权限范围,可重复 (repeatable)")
@click.option("--unit", default=None, help="仅限该网格单元及其下级 (confine the token to a unit)")
@click.option("--db", "db_url", default=DEFAULT_URL, show_default=True, help="数据库 URL")
def create(county: str, name: str, scopes: tuple[str, ...], unit: str | None, db_url: str) -> None:
    """签发令牌 (create a token; printed once)."""
    from wangge.core.store import open_database

    from .auth import create_token

    db = open_database(db_url)
    try:
        token_id, token = create_token(db, county, name, [*scopes, *([UNIT_PREFIX + unit] if unit else [])])
    except ValueError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    finally:
        db.dispose()
    click.echo(f"# 令牌 {name} ({token_id}) 已签发给 {county},权限 {', '.join(scopes)}"
               f"{',限单元 ' + unit if unit else ''}。只显示这一次,请妥善保存。", err=True)
    click.echo(token)


@tokens.command("list")
@click.argument("county")
@click.option("--db", "db_url", default=DEFAULT_URL, show_default=True, help="数据库 URL")
def list_(county: str, db_url: str) -> None:
    """列出令牌 (list tokens; never the token itself)."""
    from wangge.core.store import open_database

    from .auth import list_tokens

    db = open_database(db_url)
    try:
        for t in list_tokens(db, county):
            state = "已吊销 revoked" if t["revoked"] else "有效 active"
            click.echo(f"{t['id']}  {t['name']:<20} {state:<12} {' '.join(t['scopes'])}")
    finally:
        db.dispose()


@tokens.command()
@click.argument("county")
@click.argument("token_id")
@click.option("--db", "db_url", default=DEFAULT_URL, show_default=True, help="数据库 URL")
def revoke(county: str, token_id: str, db_url: str) -> None:
    """吊销令牌 (revoke a token by id)."""
    from wangge.core.store import open_database

    from .auth import revoke_token

    db = open_database(db_url)
    try:
        if not revoke_token(db, county, token_id):
            click.echo(f"没有令牌 {token_id}(县 {county})", err=True)
            sys.exit(1)
    finally:
        db.dispose()
    click.echo(f"已吊销 {token_id}")
