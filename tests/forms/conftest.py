"""Fixtures for the forms tests: the real example packs, a real database, a real app over HTTP."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient
from wangge.core.pack.loader import PackLoader
from wangge.core.pack.model import Pack
from wangge.examples import COUNTIES
from wangge.forms import forms_app

HERE = Path(__file__).parent
VALID: dict[str, dict[str, Any]] = yaml.safe_load((HERE / "valid_submissions.yaml").read_text(encoding="utf-8"))
SECRET = "test-secret"


@pytest.fixture(scope="session")
def packs() -> dict[str, Pack]:
    loader = PackLoader()
    return {d.name: loader.load(d) for d in sorted(COUNTIES.iterdir()) if (d / "pack.yaml").exists()}


def first_grid(pack: Pack) -> list[str]:
    """Codes from the top of a cascade down to the first unit at the grid level."""
    unit = next(u for u in pack.grid.units.values() if u.level == "grid")
    return [u.code for u in reversed(list(pack.grid.ancestors(unit.code)))]


def post_data(pack: Pack, form_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """A form post: the cascade's level selects filled in for GRID."""
    out: dict[str, Any] = {}
    form = pack.forms[form_id]
    for key, value in values.items():
        f = form.field(key)
        if value == "GRID" and f is not None and f.type == "unit":
            chain = {pack.grid.units[c].level: c for c in first_grid(pack)}
            for level in f.levels:
                out[f"{key}__{level}"] = chain[level]
        else:
            out[key] = value
    return out


def csrf(client: TestClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.text
    return re.search(r'name="_csrf" value="([^"]+)"', page.text)[1]


@pytest.fixture
def app_for(database, tmp_path):  # type: ignore[no-untyped-def]
    def make(*packs: Pack, **kw: Any) -> TestClient:
        return TestClient(forms_app(list(packs), database, secret=SECRET, uploads=tmp_path / "uploads", **kw))
    return make


def write_pack(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    files = {"pack.yaml": 'pack: {id: test.forms, name: 测试包, region: "100000", version: 1.0.0, '
                          'extends: {id: cn.base, version: ">=1.0,<2"}}\n'
                          'grid:\n  units:\n    - {code: "1", name: 测试县, level: county, children: [\n'
                          '        {code: "11", name: 甲街道, level: township, children: [\n'
                          '          {code: "111", name: 一社区, level: village, children: [\n'
                          '            {code: "1111", name: 一网格, level: grid}, {code: "1112", name: 二网格, level: grid}]},\n'
                          '          {code: "112", name: 二社区, level: village, children: [{code: "1121", name: 三网格, level: grid}]}]}]}\n',
             **files}
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root
