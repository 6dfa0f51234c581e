"""A `wangge scenario` file feeds `wangge route` for the pack that generated it, line for line."""
from __future__ import annotations

import json

from click.testing import CliRunner

from wangge.core.cli import cli
from wangge.examples import COUNTIES


def test_a_scenario_stream_routes_without_a_single_bad_line(tmp_path):
    pack = str(COUNTIES / "binzhou-pengli")
    events = tmp_path / "events.jsonl"
    made = CliRunner().invoke(cli, ["scenario", pack, "--n", "150", "--seed", "7", "--out", str(events)])
    assert made.exit_code == 0, made.output
    routed = CliRunner().invoke(cli, ["route", pack, "--events", str(events)])
    assert routed.exit_code == 0, routed.output
    lines = [json.loads(line) for line in routed.output.splitlines() if line.startswith("{")]
    assert len(lines) == 150 and all("error" not in line and line["level"] for line in lines)
