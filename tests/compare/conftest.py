"""Packs and streams shared by the comparison tests (loaded once per session: packs are immutable)."""
from __future__ import annotations

import pytest
from wangge.core.compare import generate
from wangge.core.pack.loader import PackLoader
from wangge.examples import COUNTIES


@pytest.fixture(scope="session")
def loader() -> PackLoader:
    return PackLoader(())


@pytest.fixture(scope="session")
def pengli(loader):
    return loader.load(COUNTIES / "binzhou-pengli")


@pytest.fixture(scope="session")
def yingze(loader):
    return loader.load(COUNTIES / "taiyuan-yingze")


@pytest.fixture(scope="session")
def all_packs(loader):
    return [loader.load(d) for d in sorted(COUNTIES.iterdir()) if (d / "pack.yaml").exists()]


@pytest.fixture(scope="session")
def stream(pengli):
    return generate(pengli, 1500, seed=11)
