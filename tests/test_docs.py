"""The docs stay true: the worked example in docs/packs.md loads, and the README's commands exist."""
from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from wangge.core.cli import cli
from wangge.core.pack.loader import load_pack

ROOT = Path(__file__).resolve().parents[1]


def doc_block(doc: str, title: str) -> str:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    match = re.search(rf"```yaml title={re.escape(title)}\n(.*?)```", text, re.S)
    assert match, f"{doc} has no block titled {title}"
    return match.group(1)


def test_worked_example_in_packs_doc_loads(tmp_path):
    (tmp_path / "example-pack.yaml").write_text(doc_block("packs.md", "example-pack.yaml"), encoding="utf-8")
    pack = load_pack(tmp_path / "example-pack.yaml")
    assert pack.id == "cn.example.shili"
    assert pack.lineage == ("cn.base@1.0.0", "cn.example.shili@1.0.0")
    assert pack.grid.count_by_level() == {"county": 1, "township": 3, "village": 11, "grid": 16}
    assert pack.events.classes["mdjf_tudi_liuzhuan"].maps_to == "mdjf_qita"
    assert str(pack.events.classes["mdjf"].time_limit()) == "3工作日"
    assert all(item.source == "illustrative" for item in pack.duties.items)


def test_readme_starts_with_the_two_commands():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "```bash"
    assert lines[1].startswith("bash scripts/start.sh")
    assert lines[2].startswith("bash scripts/test.sh")
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_documented_error_code_is_listed(tmp_path):
    """Codes the loader can emit appear in the docs' error table, so staff can look them up."""
    text = (ROOT / "docs" / "packs.md").read_text(encoding="utf-8")
    table = text[text.index("## Error codes"):]
    pattern = re.compile(r'(?:problem\(|Problem\(|Error\(|code\s*=)\s*"([A-Z][A-Z_]{3,})"')
    sources = [*(ROOT / "core" / "pack").rglob("*.py"), ROOT / "core" / "timelimit.py", ROOT / "core" / "workcal.py"]
    emitted = {code for source in sources for code in pattern.findall(source.read_text(encoding="utf-8"))}
    assert {"SCHEMA", "UNKNOWN_LEVEL", "BAD_CALENDAR"} <= emitted
    missing = sorted(code for code in emitted if f"`{code}`" not in table)
    assert not missing, f"undocumented error codes: {missing}"


def test_check_command_summarises_the_example(tmp_path):
    (tmp_path / "example-pack.yaml").write_text(doc_block("packs.md", "example-pack.yaml"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "example-pack.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok  cn.example.shili 1.0.0")


def test_the_schema_file_editors_use_is_the_one_wangge_prints():
    """Pack files point yaml-language-server at docs/pack.schema.json; it must be `wangge schema`'s output."""
    from wangge.core.pack.schema import schema_json

    shipped = (ROOT / "docs" / "pack.schema.json").read_text(encoding="utf-8")
    assert shipped.strip() == schema_json().strip(), "regenerate with: wangge schema > docs/pack.schema.json"
