"""``wangge scenario`` and ``wangge compare`` (docs/compare.md)."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from ..pack.loader import PackLoader
from ..pack.problems import PackError
from .output import summary_table, write
from .rates import load_rates
from .report import compare_packs
from .scenario import generate, read_jsonl, write_jsonl
from .vocab import ComparabilityError

PATH_OPTION = click.option("--path", "search", multiple=True, type=click.Path(path_type=Path),
                           help="继承的基础包所在文件夹 (folders holding base packs); 可重复")
RATES_OPTION = click.option("--rates", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                            help="覆盖示意比率的 YAML/JSON 文件 (override the synthetic rates)")


def _load(loader: PackLoader, path: Path):
    try:
        return loader.load(path)
    except PackError as exc:
        click.echo(f"错误 {path}: {len(exc.problems)} 个问题", err=True)
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)


@click.command("scenario")
@click.argument("pack", type=click.Path(path_type=Path))
@click.option("--n", "n", type=click.IntRange(1, 5_000_000), default=1000, show_default=True, help="事件数")
@click.option("--seed", type=int, default=1, show_default=True, help="随机种子:同一种子生成同一文件")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default="2026-03-02", show_default=True,
              help="第一天 (first day)")
@click.option("--days", type=click.IntRange(1, 366), default=None,
              help="天数;默认按网格单元数和 per_unit_daily 推算,最多 180 天")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="输出 JSONL;默认标准输出")
@RATES_OPTION
@PATH_OPTION
def scenario_command(pack: Path, n: int, seed: int, start, days: int | None, out: Path | None,
                     rates: Path | None, search: tuple[Path, ...]) -> None:
    """生成合成事件流 (write a seeded, synthetic event stream from a pack's classification, grid and rates).

    输出的第一行是 _meta 说明行(标明为合成数据),其后每行一个参考事件(ref_class、ref_channel、place),
    可用 wangge compare 在任意规则包上重放。
    """
    loaded = _load(PackLoader(search), pack)
    try:
        scenario = generate(loaded, n, seed, start=start.date() if hasattr(start, "date") else date.fromisoformat(str(start)),
                            days=days, rates=load_rates(rates))
    except ValueError as exc:
        click.echo(f"错误: {exc}", err=True)
        sys.exit(1)
    if out is None:
        write_jsonl(scenario, sys.stdout, loaded)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        write_jsonl(scenario, fh, loaded)
    click.echo(f"已写入 {n} 个合成事件 ({scenario.meta['days']} 天, 种子 {seed}) → {out}", err=True)


@click.command("compare")
@click.argument("packs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--events", "events_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="参考事件 JSONL (wangge scenario 的输出)")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="报告目录")
@click.option("--des", "engine", type=click.Choice(["heap", "simpy"]), default="heap", show_default=True,
              help="仿真引擎:heap(快)或 simpy(同一模型,用于核对)")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="并行进程数;默认每个 CPU 一个")
@RATES_OPTION
@PATH_OPTION
def compare_command(packs: tuple[Path, ...], events_file: Path, out: Path, engine: str, workers: int | None,
                    rates: Path | None, search: tuple[Path, ...]) -> None:
    """在同一批事件上比较多个模式 (replay the same events through every pack: routing, workflow, simulation,
    indicators). 写出 DIR/report.html 与 DIR/report.json;无法比较时退出码为 2。"""
    loader = PackLoader(search)
    loaded = [_load(loader, p) for p in packs]
    try:
        meta, events = read_jsonl(events_file)
    except (OSError, ValueError) as exc:
        click.echo(f"错误: {exc}", err=True)
        sys.exit(1)
    try:
        with click.progressbar(length=len(events) * len(loaded), label="对比中 comparing", file=sys.stderr,
                               show_eta=True) as bar:
            report = compare_packs(loaded, events, rates=load_rates(rates), engine=engine, workers=workers,
                                   meta={"scenario": meta or None, "events_file": str(events_file)},
                                   progress=bar.update)
    except ComparabilityError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    json_path, html_path = write(report, out)
    click.echo(summary_table(report))
    click.echo(f"\n报告: {html_path}  {json_path}  (用时 {report.timings['total']:.1f} 秒)")
