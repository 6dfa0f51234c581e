"""``wangge route PACK --events FILE.jsonl`` and ``wangge test PACK`` (registered by core/cli.py)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..events import EventError
from ..pack.loader import PackLoader
from ..pack.problems import PackError
from .decision import RoutingError

PATH_OPTION = click.option("--path", "search", multiple=True, type=click.Path(path_type=Path),
                           help="继承的基础包所在文件夹 (folders holding base packs); 可重复")


def _load(path: Path, search: tuple[Path, ...]) -> Any:
    try:
        return PackLoader(search).load(path)
    except PackError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


@click.command("route")
@click.argument("pack_path", metavar="PACK", type=click.Path(path_type=Path))
@click.option("--events", "events_file", required=True, type=click.File("r", encoding="utf-8"),
              help="事件文件,每行一个 JSON 对象 (JSON Lines; - for stdin)")
@PATH_OPTION
def route_command(pack_path: Path, events_file: Any, search: tuple[Path, ...]) -> None:
    """流转:为每个事件输出一行 JSON 决定 (one JSON decision per event line); exit 1 if any line was bad."""
    from ..scenarios import ScenarioRunner  # noqa: PLC0415

    pack = _load(pack_path, search)
    bad = 0
    with ScenarioRunner(pack) as runner:
        for number, line in enumerate(events_file, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                bad += 1
                _emit({"line": number, "error": {"$": f"第 {number} 行不是合法的 JSON: {exc.msg} (invalid JSON)"}})
                continue
            if isinstance(raw, dict) and "_meta" in raw:
                continue  # the header of a `wangge scenario` file
            event_id = raw.get("id") if isinstance(raw, dict) else None
            try:
                decision = runner.route(raw)
            except EventError as exc:
                bad += 1
                _emit({"line": number, "id": event_id, "error": exc.errors})
                continue
            except RoutingError as exc:
                bad += 1
                _emit({"line": number, "id": event_id, "error": {"$": exc.message}})
                continue
            _emit(decision.to_json())
    if bad:
        click.echo(f"{bad} 行事件无效 ({bad} bad lines)", err=True)
        sys.exit(1)


@click.command("test")
@click.argument("pack_path", metavar="PACK", type=click.Path(path_type=Path))
@PATH_OPTION
def test_command(pack_path: Path, search: tuple[Path, ...]) -> None:
    """运行规则包的场景 (run the pack's scenarios); exit 1 on any failure."""
    from ..scenarios import run_scenarios  # noqa: PLC0415

    pack = _load(pack_path, search)
    results = run_scenarios(pack)
    for result in results:
        mark = "PASS" if result.passed else "FAIL"
        click.echo(f"{mark}  {result.scenario.id}  {result.scenario.description}")
        for diff in result.diffs:
            click.echo(f"      - {diff}")
    failed = sum(1 for r in results if not r.passed)
    click.echo(f"{len(results) - failed} 通过, {failed} 失败 ({len(results)} scenarios)")
    if not results:
        click.echo("规则包没有场景 (no scenarios)", err=True)
    if failed:
        sys.exit(1)


def _emit(obj: dict[str, Any]) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False))
