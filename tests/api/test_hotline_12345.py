"""12345 redelivery creates one case: through the plugin's route mounted beside the API, and through the
API's POST /events with the plugin's mapping — both share the idempotency key ``12345:<工单编号>``."""
from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from wangge.plugins.hotline_12345.mapping import order_to_event
from wangge.plugins.hotline_12345.routes import hotline_routes
from wangge.web.api import api_routes

ORDER = {"工单编号": "GD20260302001", "接收时间": "2026-03-02 09:30:00", "信息来源": "电话", "来电类别": "市民来电",
         "受理类型": "投诉", "联系人": "张三", "联系电话": "138-0000-0000", "地址": "甲县东一社区第1网格3号楼",
         "问题描述": "小区门口有人违法搭建彩钢房", "一级分类": "城乡建设", "二级分类": "违法建设",
         "紧急程度": "一般", "是否保密": "否"}


@pytest.fixture
def hotline_client(deployment):  # type: ignore[no-untyped-def]
    county = lambda request: request.path_params["county"]  # noqa: E731
    pack = lambda request: deployment.counties[request.path_params["county"]].pack  # noqa: E731
    app = Starlette(routes=[*hotline_routes(deployment.database, county, pack, path="/{county}/12345/orders"),
                            *api_routes(deployment, token_ttl=0)])
    with TestClient(app) as c:
        yield c


def test_redelivery_through_plugin_route_and_api_is_one_case(hotline_client, token, auth, counties):
    c, t = hotline_client, token()
    first = c.post("/alpha/12345/orders", json=ORDER)
    assert first.status_code == 201, first.text
    again = c.post("/alpha/12345/orders", json=ORDER)
    assert again.status_code == 200 and again.json()["case_id"] == first.json()["case_id"]
    event = order_to_event(ORDER, counties["alpha"].pack)
    via_api = [c.post("/alpha/api/v1/events", json=event, headers=auth(t)) for _ in range(3)]
    assert {r.status_code for r in via_api} == {200}
    assert {r.json()["case_id"] for r in via_api} == {first.json()["case_id"]}
    listed = c.get(f"/alpha/api/v1/cases?external_id={event['external_id']}", headers=auth(t)).json()
    assert listed["total"] == 1


def test_redelivery_of_a_new_order_through_the_api_alone(client, token, auth, counties):
    event = order_to_event({**ORDER, "工单编号": "GD20260302002"}, counties["alpha"].pack)
    codes = [client.post("/alpha/api/v1/events", json=event, headers=auth(token())).status_code for _ in range(3)]
    assert codes == [201, 200, 200]
