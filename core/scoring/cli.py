"""``wangge indicators`` and ``wangge score`` (with ``appeal``, ``flags``, ``import-satisfaction``)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from ..pack.loader import PackLoader
from ..pack.problems import PackError
from ..store import open_database
from ..store.db import DEFAULT_URL
from .appeals import AppealError, file_appeal, withdraw_appeal
from .flags import find_flags
from .indicators import compute_indicators
from .inputs import InputError, import_inputs, read_inputs
from .period import PeriodError, current_period, parse_period
from .score import ScoringError, score

DB = click.option("--db", "db_url", default=lambda: os.environ.get("WANGGE_DB", DEFAULT_URL),
                  show_default="sqlite:///wangge.sqlite (或 $WANGGE_DB)", help="数据库 URL (sqlite:///… 或 postgresql://…)")
TENANT = click.option("--tenant", required=True, help="县(区)租户 id")
PERIOD = click.option("--period", default=None, help="期间: 2026-03、2026-Q1、2026、2026-03-01..2026-03-15;默认本期")
AS_JSON = click.option("--json", "as_json", is_flag=True, help="JSON 输出")


def _pack(path: Path) -> Any:
    try:
        return PackLoader().load(path)
    except PackError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


def _period(text: str | None, pack: Any) -> Any:
    try:
        return parse_period(text) if text else current_period(pack.scoring.period if pack.scoring else "month")
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.command("indicators")
@click.argument("pack_path", type=click.Path(path_type=Path))
@DB
@TENANT
@PERIOD
@click.option("--level", default=None, help="按哪一级单元汇总(网格层级 id 或 department);默认最高一级")
@click.option("--unit", "units", multiple=True, help="只看这些单元(含下级);可重复")
@AS_JSON
def indicators_command(pack_path: Path, db_url: str, tenant: str, period: str | None, level: str | None,
                       units: tuple[str, ...], as_json: bool) -> None:
    """指标:按单元和期间计算规则包声明的指标,并写明所用口径 (indicators per unit and period)."""
    pack = _pack(pack_path)
    p = _period(period, pack)
    db = open_database(db_url)
    values = compute_indicators(db, tenant, pack, p, units or None, level=level)
    if as_json:
        _dump({"period": p.label, "from": p.start.isoformat(), "to": p.end.isoformat(),
               "values": [v.to_json() for v in values]})
        return
    click.echo(f"期间 {p.describe()}")
    shown: set[str] = set()
    for v in values:
        if v.indicator not in shown:
            click.echo(f"口径 {v.definition}")
            shown.add(v.indicator)
    for v in values:
        frac = f"{v.numerator}/{v.denominator}" if v.denominator is not None else f"{v.numerator}"
        click.echo(f"{v.subject}\t{v.subject_name}\t{v.name}\t{v.display()}\t({frac})")


class _DefaultGroup(click.Group):
    """``wangge score PACK …`` scores; ``wangge score appeal|flags|import-satisfaction …`` are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("score", cls=_DefaultGroup)
def score_group() -> None:
    """考核评分:wangge score PACK --db URL --tenant T --period 2026-03 [--level grid] [--explain] [--json]."""


@score_group.command("run")
@click.argument("pack_path", type=click.Path(path_type=Path))
@DB
@TENANT
@PERIOD
@click.option("--level", default=None, help="考核对象:网格层级 id、department、reporter、actor")
@click.option("--scheme", default=None, help="考核方案 id")
@click.option("--unit", "units", multiple=True, help="只算这些对象")
@click.option("--explain", is_flag=True, help="逐条说明每一分的规则和案件")
@AS_JSON
def run_command(pack_path: Path, db_url: str, tenant: str, period: str | None, level: str | None,
                scheme: str | None, units: tuple[str, ...], explain: bool, as_json: bool) -> None:
    """计算得分 (score subjects for a period)."""
    pack = _pack(pack_path)
    p = _period(period, pack)
    db = open_database(db_url)
    try:
        scores = score(db, tenant, pack, p, level, scheme=scheme, explain=explain or as_json,
                       subjects=units or None)
    except ScoringError as exc:
        click.echo(f"错误: {exc}", err=True)
        sys.exit(1)
    if as_json:
        _dump({"period": p.label, "ranking": bool(pack.scoring and pack.scoring.ranking),
               "scores": [s.to_json() for s in scores]})
        return
    click.echo(f"期间 {p.describe()};排名{'已开启' if pack.scoring and pack.scoring.ranking else '未开启(默认)'}")
    for s in scores:
        rank = f"  第 {s.rank} 名" if s.rank is not None else ""
        star = f"  {s.star}" if s.star else ""
        click.echo(f"{s.scheme}\t{s.subject}\t{s.subject_name}\t{s.total:.2f} 分{star}{rank}")
        if explain:
            for ln in s.lines:
                click.echo(f"    {ln.points:+.2f}  {ln.rule}  {ln.name}: {ln.note}")
                if ln.case_ids:
                    more = f" …共 {len(ln.case_ids)} 件" if len(ln.case_ids) > 10 else ""
                    click.echo(f"           案件: {', '.join(ln.case_ids[:10])}{more}")
            if s.rank_note:
                click.echo(f"    名次: {s.rank_note}")
            for a in s.appeals:
                click.echo(f"    {a}")


@score_group.command("appeal")
@click.argument("case_id")
@DB
@TENANT
@click.option("--exclude", "mode", flag_value="exclude", help="不计入考核")
@click.option("--rejudge", "mode", flag_value="rejudge", help="改判(配合 --add/--remove)")
@click.option("--withdraw", "withdraw", default=None, help="撤销这个申诉 id(CASE 任意)")
@click.option("--add", "add", multiple=True, help="改判增加的事实,如 closed_on_time")
@click.option("--remove", "remove", multiple=True, help="改判去掉的事实,如 reworked")
@click.option("--by", required=True, help="处理人")
@click.option("--reason", required=True, help="理由")
def appeal_command(case_id: str, db_url: str, tenant: str, mode: str | None, withdraw: str | None,
                   add: tuple[str, ...], remove: tuple[str, ...], by: str, reason: str) -> None:
    """申诉:把案件排除出考核或改判,记录人、时间、理由;之后的得分按申诉重算."""
    db = open_database(db_url)
    try:
        if withdraw:
            withdraw_appeal(db, tenant, withdraw)
            click.echo(f"已撤销申诉 {withdraw}")
            return
        if mode is None:
            raise AppealError("请选择 --exclude 或 --rejudge")
        appeal = file_appeal(db, tenant, case_id, mode, by, reason, add, remove)
    except AppealError as exc:
        click.echo(f"错误: {exc}", err=True)
        sys.exit(1)
    click.echo(f"已记录 {appeal.describe()}\n申诉 id: {appeal.id}")


@score_group.command("flags")
@click.argument("pack_path", type=click.Path(path_type=Path))
@DB
@TENANT
@PERIOD
@AS_JSON
def flags_command(pack_path: Path, db_url: str, tenant: str, period: str | None, as_json: bool) -> None:
    """防作弊提示:自报自结、一事拆报、临近时限集中结案."""
    pack = _pack(pack_path)
    p = _period(period, pack)
    flags = find_flags(open_database(db_url), tenant, pack, p)
    if as_json:
        _dump({"period": p.label, "flags": [f.to_json() for f in flags]})
        return
    if not flags:
        click.echo(f"期间 {p.label}: 没有提示")
    for f in flags:
        click.echo(f"[{f.kind}] {f.detail}\n    案件: {', '.join(f.case_ids)}")


@score_group.command("import-satisfaction")
@click.argument("pack_path", type=click.Path(path_type=Path))
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@DB
@TENANT
@click.option("--period", required=True, help="期间,如 2026-Q1")
@click.option("--kind", type=click.Choice(["satisfaction", "rating"]), default="satisfaction",
              help="satisfaction 第三方满意度;rating 条块互评")
@click.option("--rater", default="third_party", help="文件中没有 rater 列时的打分方")
@click.option("--by", default="", help="导入人")
def import_command(pack_path: Path, file: Path, db_url: str, tenant: str, period: str, kind: str, rater: str,
                   by: str) -> None:
    """导入第三方满意度或互评结果(CSV: subject,value[,rater][,note];或 JSON 列表)."""
    pack = _pack(pack_path)
    try:
        n = import_inputs(open_database(db_url), tenant, pack, parse_period(period), kind, read_inputs(file, rater), by)
    except (InputError, PeriodError) as exc:
        click.echo(f"错误: {exc}", err=True)
        sys.exit(1)
    click.echo(f"已导入 {n} 条 ({kind}, {period})")
