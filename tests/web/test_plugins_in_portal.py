"""Plugins in the portal: the 12345 endpoint opens only with a signing secret, is exempt from the session
CSRF check, refuses unsigned orders, and a redelivered work order still makes one case."""
from __future__ import annotations

import json

from sqlalchemy import func, select
from starlette.testclient import TestClient

from wangge.core.store.tables import cases
from wangge.examples import COUNTIES
import time

from wangge.plugins.webhook import SIGNATURE, TIMESTAMP, sign
from wangge.web import plugins
from wangge.web.app import create_app
from wangge.web.deployment import open_deployment

PANJIN = "panjin-xinglongtai"
SECRET = "hotline-test-secret"
ORDER = {"工单编号": "GD20260302001", "接收时间": "2026-03-02T09:30:00+08:00", "受理类型": "投诉",
         "联系人": "陈女士", "联系电话": "13800138000", "地址": "兴旺社区3号楼", "问题描述": "楼道堆放杂物,存在消防隐患",
         "一级分类": "城乡建设", "紧急程度": "一般"}


def portal(database, tmp_path, monkeypatch, secret: str | None):  # type: ignore[no-untyped-def]
    if secret is None:
        monkeypatch.delenv("WANGGE_12345_SECRET_XINGLONGTAI", raising=False)
    else:
        monkeypatch.setenv("WANGGE_12345_SECRET_XINGLONGTAI", secret)
    deployment = open_deployment([COUNTIES / PANJIN], database.url, "p" * 32, tmp_path / "data", database=database)
    return deployment, TestClient(create_app(deployment, deliver=False))


def post_signed(client: TestClient, order: dict, secret: str = SECRET):  # type: ignore[no-untyped-def]
    body = json.dumps(order, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    headers = {"content-type": "application/json", SIGNATURE: sign(secret, stamp, body), TIMESTAMP: stamp}
    return client.post(f"/{PANJIN}/12345/orders", content=body, headers=headers)


def test_no_secret_no_endpoint(database, tmp_path, monkeypatch):
    _, client = portal(database, tmp_path, monkeypatch, None)
    assert client.post(f"/{PANJIN}/12345/orders", json=ORDER).status_code in (403, 404, 405)


def test_signed_order_opens_one_case_even_when_redelivered(database, tmp_path, monkeypatch):
    deployment, client = portal(database, tmp_path, monkeypatch, SECRET)
    first = post_signed(client, ORDER)
    assert first.status_code == 201, first.text
    again = post_signed(client, ORDER)
    assert again.status_code == 200 and again.json()["case_id"] == first.json()["case_id"]
    with deployment.database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar() == 1


def test_unsigned_or_wrongly_signed_orders_are_refused(database, tmp_path, monkeypatch):
    deployment, client = portal(database, tmp_path, monkeypatch, SECRET)
    assert client.post(f"/{PANJIN}/12345/orders", json=ORDER).status_code == 401
    assert post_signed(client, ORDER, secret="wrong").status_code == 401
    with deployment.database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar() == 0


def test_only_counties_whose_plugins_observe_case_changes_are_shown_them(database, tmp_path):  # type: ignore[no-untyped-def]
    # 兴隆台 enables the 12345 adapter (it sends 回单 on case changes); 彭李 enables no plugin, so its
    # cases are not read back in their transaction for nobody.
    deployment = open_deployment([COUNTIES / PANJIN, COUNTIES / "binzhou-pengli"], database.url, "p" * 32,
                                 tmp_path / "data", database=database)
    observe = plugins.observer(plugins.county_plugins(deployment))
    assert observe.watches(PANJIN)
    assert not observe.watches("binzhou-pengli")
    seen: list[str] = []
    spy = plugins.DeploymentObserver({PANJIN: lambda conn, tenant, case_id, seq: seen.append(tenant)})
    spy(None, "binzhou-pengli", "c1", 1)
    spy(None, PANJIN, "c2", 1)
    assert seen == [PANJIN]
