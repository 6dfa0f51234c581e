"""Fixtures shared by the pack loader tests.

The packs under ``fixtures/`` are real packs. They extend ``test.base`` (``fixtures/bases/``), a small
reference pack of our own, so these tests do not move when the shipped ``cn.base`` grows.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from wangge.core.pack.loader import PackLoader
from wangge.core.pack.model import Pack

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _no_pack_path_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's $WANGGE_PACK_PATH must not change which bases the tests find."""
    monkeypatch.delenv("WANGGE_PACK_PATH", raising=False)


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def county() -> Pack:
    """The good example: test.county extending test.base (fixtures/good/county)."""
    return PackLoader((FIXTURES / "bases",)).load(FIXTURES / "good" / "county")
