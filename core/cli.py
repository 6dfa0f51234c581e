"""The ``wangge`` command. Core commands live here; packages above core add theirs through the
``wangge.cli`` entry-point group (as Datasette's ``register_commands``), so core never imports them."""
from __future__ import annotations

import json
import re
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click
import yaml

from .cases.cli import cases_group
from .compare.cli import compare_command, scenario_command
from .pack.loader import PackLoader
from .pack.model import plain
from .pack.problems import PackError
from .pack.schema import schema_json
from .routing.cli import route_command, test_command
from .scoring.cli import indicators_command, score_group

PATH_OPTION = click.option("--path", "search", multiple=True, type=click.Path(path_type=Path),
                           help="继承的基础包所在文件夹 (folders holding base packs); 可重复")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """wangge 网格化服务管理规则包工具 — grid-governance rule packs."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@PATH_OPTION
def check(paths: tuple[Path, ...], search: tuple[Path, ...]) -> None:
    """校验规则包 (validate packs); exit 1 on any error."""
    loader = PackLoader(search)
    failed = 0
    for path in paths:
        try:
            pack = loader.load(path)
        except PackError as exc:
            failed += 1
            click.echo(f"错误 {path}: {len(exc.problems)} 个问题 ({len(exc.problems)} problems)", err=True)
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            continue
        click.echo(f"ok  {pack.id} {pack.version}  {pack.summary()}")
    if failed:
        sys.exit(1)


@cli.command()
def schema() -> None:
    """打印规则包文件的 JSON Schema (print the pack-file JSON Schema, draft 2020-12)."""
    click.echo(schema_json())


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--merged", is_flag=True, help="打印与基础包合并后的结果 (print the merged pack)")
@click.option("--json", "as_json", is_flag=True, help="JSON 输出")
@PATH_OPTION
def show(path: Path, merged: bool, as_json: bool, search: tuple[Path, ...]) -> None:
    """显示规则包 (show a pack: a summary, or the merged pack with --merged)."""
    try:
        pack = PackLoader(search).load(path)
    except PackError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    if merged:
        document = {"pack": _manifest_dict(pack), **plain(pack.merged)}
    else:
        document = overview(pack)
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(yaml.dump(document, Dumper=QuotingDumper, allow_unicode=True, sort_keys=False, width=120))


def _manifest_dict(pack: Any) -> dict[str, Any]:
    m = pack.manifest
    out: dict[str, Any] = {"id": m.id, "name": m.name}
    if m.name_en:
        out["name_en"] = m.name_en
    out.update({"region": m.region, "version": m.version, "lineage": list(pack.lineage)})
    if m.extends_id:
        out["extends"] = {"id": m.extends_id, "version": m.extends_range}
    if m.effective:
        out["effective"] = m.effective.isoformat()
    if m.description:
        out["description"] = m.description
    out["sources"] = [{k: v for k, v in (("id", s.id), ("title", s.title), ("publisher", s.publisher),
                                         ("date", s.date.isoformat() if s.date else None), ("doc_no", s.doc_no),
                                         ("file", s.file), ("url", s.url)) if v} for s in m.sources]
    return out


def overview(pack: Any) -> dict[str, Any]:
    """What a 政法委 staffer wants to see of a compiled pack, in order."""
    grid = pack.grid
    counts = grid.count_by_level()
    return {
        "pack": _manifest_dict(pack),
        "sources": [{"id": s.id, "title": s.title, "doc_no": s.doc_no} for s in pack.manifest.sources],
        "levels": [f"{lv.name} ({lv.id}): {counts[lv.id]} 个单元" for lv in grid.levels],
        "roles": [f"{r.name} @{r.level} ×{r.count}" + (f" [{r.title}]" if r.title else "") for r in grid.roles],
        "departments": [f"{d.name} ({d.id}) @{d.level}" for d in pack.departments.values()],
        "duties": {c.name: len(c.items) for c in pack.duties.categories},
        "duties_expected": dict(pack.duties.expected),
        "events": {c.name: [s.name for s in pack.events.subclasses(c.id)] for c in pack.events.majors},
        "channels": [c.name for c in pack.channels.values()],
        "indicators": [i.name for i in pack.indicators.values()],
    }


NUMERIC_LOOKING = re.compile(r"^[-+]?[0-9][0-9_.:eE+-]*$")


class QuotingDumper(yaml.SafeDumper):
    """Quotes text that any YAML reader (1.1 or 1.2) might take for a number, such as codes "079"."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "'" if NUMERIC_LOOKING.match(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


QuotingDumper.add_representer(str, _represent_str)


# The engine's own command groups; packages above core (forms, web, plugins) add theirs by entry point.
for _name, _command in {"cases": cases_group, "route": route_command, "test": test_command,
                        "scenario": scenario_command, "compare": compare_command,
                        "indicators": indicators_command, "score": score_group}.items():
    cli.add_command(_command, _name)


def _add_contributed_commands() -> None:
    for ep in entry_points(group="wangge.cli"):
        command = ep.load()
        cli.add_command(command, ep.name)


def main() -> None:
    _add_contributed_commands()
    cli()


if __name__ == "__main__":
    main()
