"""`wangge check`, `wangge schema` and `wangge show`, run through click's CliRunner."""
from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from wangge.core.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch):
    """Run `wangge ARGS` from inside fixtures/, so reported paths are short and exact."""
    monkeypatch.chdir(FIXTURES)

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_check_ok_prints_one_line_per_pack(run) -> None:
    result = run("check", "good/county", "chain/county", "--path", "bases")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("ok  test.county 1.0.0  测试街道网格化管理 — ")
    assert lines[1].startswith("ok  test.ucounty 1.0.0  ")
    assert result.stderr == ""


def test_check_reports_path_line_column_code_and_exits_1(run) -> None:
    result = run("check", "good/county", "broken/unknown_level_unit", "multi_errors/semantic", "--path", "bases")
    assert result.exit_code == 1
    assert result.stdout.startswith("ok  test.county 1.0.0")           # the good pack still reported
    problems = [line for line in result.stderr.splitlines() if re.match(r"^\S+:\d+:\d+: [A-Z_]+ ", line)]
    assert "broken/unknown_level_unit/grid.yaml:7:45: UNKNOWN_LEVEL" in "\n".join(problems)
    assert {line.split(": ")[1].split()[0] for line in problems if line.startswith("multi_errors/")} == {
        "UNKNOWN_LEVEL", "UNKNOWN_DEPARTMENT", "COUNT_MISMATCH", "UNMAPPED_CLASS", "UNMAPPED_CHANNEL"}
    assert "    hint: " in result.stderr


def test_check_a_missing_path(run) -> None:
    result = run("check", "no/such/pack")
    assert result.exit_code == 1
    assert "PACK_NOT_FOUND" in result.stderr


def test_schema_is_valid_json_schema(run) -> None:
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"departments": [{"id": "weijian", "name": "卫健办", "level": "street"}]})
    assert not validator.is_valid({"departments": [{"id": "weijian", "leader": "张三"}]})


def test_show_merged_yaml_contains_inherited_entries(run) -> None:
    result = run("show", "good/county", "--merged", "--path", "bases")
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(result.stdout)
    assert document["pack"]["id"] == "test.county"
    assert document["pack"]["lineage"] == ["test.base@1.0.0", "test.county@1.0.0"]
    assert [d["id"] for d in document["departments"]] == ["paichusuo", "qu_zhujian", "weijian"]
    assert [lv["id"] for lv in document["grid"]["levels"]] == ["street", "community", "grid"]   # only in the base
    mdjf = document["events"]["classes"][0]
    assert mdjf["code"] == "07" and mdjf["time_limit"] == "4工作日"     # a code read back stays text
    assert document["indicators"][0]["id"] == "jiean_rate"


def test_show_merged_json_contains_inherited_entries(run) -> None:
    result = run("show", "good/county", "--merged", "--json", "--path", "bases")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [c["id"] for c in document["channels"]] == ["grid_patrol", "hotline_12345", "wechat"]
    assert document["calendar"]["holidays"] == ["2026-05-06"]
    assert [s["id"] for s in document["events"]["classes"][1]["subclasses"]] == ["srhj_baolu"]


def test_show_overview(run) -> None:
    result = run("show", "good/county", "--path", "bases")
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(result.stdout)
    assert document["pack"]["id"] == "test.county"
    assert document["levels"] == ["街道 (street): 2 个单元", "社区 (community): 11 个单元", "网格 (grid): 93 个单元"]
    assert document["duties"] == {"基础信息": 2, "安全隐患": 1}
    assert document["events"]["矛盾纠纷"] == ["邻里纠纷", "其他矛盾纠纷", "物业纠纷"]
    assert document["channels"] == ["网格员巡查", "12345热线", "微信群"]


def test_show_a_broken_pack_exits_1(run) -> None:
    result = run("show", "broken/level_order", "--path", "bases")
    assert result.exit_code == 1
    assert "broken/level_order/grid.yaml:7:45: LEVEL_ORDER" in result.stderr
