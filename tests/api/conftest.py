"""API test fixtures: a deployment of two small counties (alpha, beta) on the ``database`` fixture, the
API mounted in the portal's app (or bare when the portal cannot be built), and token helpers."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from wangge.core.store import Database
from wangge.web.api import api_routes
from wangge.web.api.auth import create_token
from wangge.web.deployment import Deployment, load_counties

FIXTURES = Path(__file__).parent / "fixtures"
COUNTIES = [FIXTURES / "alpha", FIXTURES / "beta"]
EVENT = {"class": "srhj_baolu", "channel": "grid_patrol", "unit": "14010100101",
         "reported_at": "2026-03-02T09:30:00+08:00", "title": "楼道堆放杂物", "description": "3号楼楼道堆放杂物"}


@pytest.fixture(scope="session")
def counties():  # type: ignore[no-untyped-def]
    return load_counties(COUNTIES)


@pytest.fixture
def deployment(database: Database, counties) -> Deployment:  # type: ignore[no-untyped-def]
    return Deployment(counties, database, b"test-secret")


@pytest.fixture
def client(deployment: Deployment) -> Iterator[TestClient]:
    app = Starlette(routes=api_routes(deployment, token_ttl=0))
    with TestClient(app) as c:
        yield c


Token = Callable[..., str]


@pytest.fixture
def token(deployment: Deployment) -> Token:
    def make(county: str = "alpha", *scopes: str, name: str = "test") -> str:
        scopes = scopes or ("events:write", "cases:read", "cases:write", "forms:write", "indicators:read")
        return create_token(deployment.database, county, name, scopes)[1]
    return make


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def event(n: int | str, **over) -> dict:  # type: ignore[no-untyped-def]
    return {**EVENT, "id": f"ev-{n}", **over}


@pytest.fixture(name="auth")
def auth_fixture() -> Callable[[str], dict[str, str]]:
    return auth


@pytest.fixture(name="event")
def event_fixture() -> Callable[..., dict]:
    return event
