"""A YAML syntax error in one file does not hide the schema mistakes of the others."""
from __future__ import annotations

import pytest

from wangge.core.pack.loader import PackLoader
from wangge.core.pack.problems import PackError


def test_syntax_and_schema_problems_of_different_files_come_together(tmp_path):
    (tmp_path / "pack.yaml").write_text('pack: {id: a, name: b, region: "100000", version: 1.0.0, reference: true}\n',
                                        encoding="utf-8")
    (tmp_path / "grid.yaml").write_text("grid: {levels: [{id: X}]}\n", encoding="utf-8")
    (tmp_path / "events.yaml").write_text("events: [\n", encoding="utf-8")
    with pytest.raises(PackError) as caught:
        PackLoader().load(tmp_path)
    found = {(p.code, p.position.file.rsplit("/", 1)[-1], p.position.line) for p in caught.value.problems}
    assert found == {("YAML_SYNTAX", "events.yaml", 2), ("SCHEMA", "grid.yaml", 1)}
