"""wangge compare writes report.json (valid JSON) and an offline report.html, and prints a summary table."""
from __future__ import annotations

import json
import re

from click.testing import CliRunner
from wangge.core.cli import cli
from wangge.examples import COUNTIES


def test_cli_writes_reports(tmp_path) -> None:
    events = tmp_path / "ev.jsonl"
    runner = CliRunner()
    made = runner.invoke(cli, ["scenario", str(COUNTIES / "binzhou-pengli"), "--n", "800", "--seed", "4",
                               "--out", str(events)])
    assert made.exit_code == 0, made.output
    out = tmp_path / "out"
    result = runner.invoke(cli, ["compare", str(COUNTIES / "binzhou-pengli"), str(COUNTIES / "taiyuan-yingze"),
                                 str(COUNTIES / "beijing-haidian"), "--events", str(events), "--out", str(out),
                                 "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "各层级结案占比" in result.output and "cn.sx.taiyuan.yingze" in result.output
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["meta"]["events"] == 800 and data["meta"]["scenario"]["seed"] == 4
    assert [m["pack"] for m in data["models"]] == ["cn.sd.binzhou.pengli", "cn.sx.taiyuan.yingze", "cn.bj.haidian"]
    for m in data["models"]:
        shares = m["closed_share"]
        assert abs(sum(shares.values()) - 1.0) < 0.01
        assert m["time_to_close_hours"]["median"] <= m["time_to_close_hours"]["p90"]
        assert {"jiean_rate", "anqi_jiean_rate"} <= {v["id"] for v in m["indicators"]}
        assert m["scores"]["engine"] == "wangge.core.scoring" and m["scores"]["note"]
    pengli = data["models"][0]
    (auto,) = pengli["scores"]["schemes"]     # 彭李 scores its grids and turned ranking on
    assert auto["id"] == "grid_auto" and auto["subjects"] > 0 and auto["ranking"] and auto["top"]
    assert auto["total"]["min"] <= auto["total"]["mean"] <= auto["total"]["max"]
    assert data["models"][1]["scores"]["schemes"] == []   # 迎泽 declares no scheme: none invented
    assert data["diff"]["models"] == [m["label"] for m in data["models"]]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "模式对比报告" in html and "合成数据" in html and "基础网格自动评分" in html
    assert "考核 基础网格自动评分" in result.output
    assert "<script" not in html and not re.search(r"(src|href)=\"https?://", html)  # offline, no CDN
