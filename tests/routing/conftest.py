"""Helpers: a small real pack (彭李) to route against, and tables compiled from plain dicts."""
from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from wangge.core.pack.context import Context
from wangge.core.pack.loader import PackLoader
from wangge.core.pack.problems import Position
from wangge.core.pack.sections.routing import Routing, compile_routing
from wangge.core.routing.router import vocabulary
from wangge.examples import COUNTIES

PENGLI = COUNTIES / "binzhou-pengli"
GRID = "37160200800101"
T = "2026-03-02T09:30:00+08:00"


@pytest.fixture(scope="session")
def pengli():
    return PackLoader().load(PENGLI)


def compile_raw(pack: Any, raw: dict) -> tuple[Routing | None, list]:
    ctx = Context({"routing": raw}, Position("test"))
    return compile_routing(raw, vocabulary(pack), ctx, pack.workflow.states if pack.workflow else None), ctx.problems


def pack_with(tmp_path: Path, routing: dict | None = None, scenarios: list | None = None) -> Path:
    """A copy of 彭李 with its routing (and scenarios) replaced."""
    folder = tmp_path / "pack"
    shutil.copytree(PENGLI, folder)
    if routing is not None:
        (folder / "routing.yaml").write_text(yaml.safe_dump({"routing": routing}, allow_unicode=True), encoding="utf-8")
    if scenarios is not None:
        (folder / "scenarios.yaml").write_text(yaml.safe_dump({"scenarios": scenarios}, allow_unicode=True), encoding="utf-8")
    return folder


def event(n: Any = None, **fields: Any) -> dict[str, Any]:
    raw = {"id": f"e{n if n is not None else next(_ids)}", "class": "mdjf_linli", "channel": "grid_patrol",
           "unit": GRID, "reported_at": T}
    raw.update({("class" if k == "cls" else k): v for k, v in fields.items()})
    return raw


_ids = itertools.count(1)
