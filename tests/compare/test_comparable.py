"""Packs that cannot be compared are refused with a Chinese message naming the pack and what is missing."""
from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest
from click.testing import CliRunner
from wangge.core.cli import cli
from wangge.core.compare import ComparabilityError, check_comparable, compare_packs
from wangge.examples import COUNTIES


def _without(pack, major: str):
    classes = {k: c for k, c in pack.events.classes.items() if (c.parent or c.id) != major}
    return dataclasses.replace(pack, events=dataclasses.replace(pack.events, classes=MappingProxyType(classes)))


def test_missing_class_is_named(pengli, yingze, stream) -> None:
    broken = _without(yingze, "mdjf")
    with pytest.raises(ComparabilityError) as info:
        compare_packs([pengli, broken], stream.events)
    text = str(info.value)
    assert "cn.sx.taiyuan.yingze" in text and "mdjf_linli" in text and "maps_to" in text


def test_other_reference_is_refused(pengli, yingze, stream) -> None:
    other = dataclasses.replace(yingze, reference=dataclasses.replace(yingze.reference, pack="cn.other"))
    with pytest.raises(ComparabilityError, match="不同的参考包"):
        check_comparable([pengli, other], stream.events)


def test_no_reference_is_refused(pengli, yingze, stream) -> None:
    bare = dataclasses.replace(yingze, reference=None)
    with pytest.raises(ComparabilityError, match="没有映射到参考分类"):
        check_comparable([pengli, bare], stream.events)


def test_cli_exit_2(tmp_path) -> None:
    events = tmp_path / "ev.jsonl"
    events.write_text('{"id": "x1", "ref_class": "no_such_class", "ref_channel": "grid_patrol", "place": "P1", '
                      '"reported_at": "2026-03-03T10:00:00+08:00"}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["compare", str(COUNTIES / "binzhou-pengli"), str(COUNTIES / "taiyuan-yingze"),
                                      "--events", str(events), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "no_such_class" in result.output and "无法比较" in result.output
