"""Every base pack (rulepacks/) and every example county (examples/counties/) loads without a problem."""
from __future__ import annotations

from pathlib import Path

import pytest

from wangge.core.pack.loader import PackLoader
from wangge.core.pack.problems import PackError
from wangge.examples import COUNTIES
from wangge.rulepacks import PATH as RULEPACKS


def pack_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


SHIPPED = [*pack_folders(RULEPACKS), *pack_folders(COUNTIES)]


def test_there_are_packs_to_check() -> None:
    assert any(p.parent == RULEPACKS for p in SHIPPED) and any(p.parent == COUNTIES for p in SHIPPED)


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_pack_validates(folder: Path) -> None:
    try:
        pack = PackLoader().load(folder)
    except PackError as exc:
        pytest.fail(f"{folder.name} does not load:\n{exc}")
    # Every pack maps onto the national reference classification.
    assert pack.lineage[0].startswith("cn.base@")
    assert pack.reference.pack == "cn.base"
    assert pack.summary()
