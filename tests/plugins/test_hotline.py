"""The 12345 adapter: field checks, mapping onto a pack, idempotent intake, replies back through the outbox."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from wangge.core import hooks
from wangge.core.cases import act, actions_for, get_case
from wangge.core.events import parse_event
from wangge.core.outbox import SENT, deliver_due, messages, observe_case_change
from wangge.core.pack.loader import PackLoader
from wangge.core.store.tables import cases
from wangge.core.workflow import Actor
from wangge.plugins.hotline_12345 import (FIELDS, REPLY_KIND, OrderError, hotline_routes, order_to_event,
                                          parse_order, parse_settings, receive_order, settings_problems)
from wangge.plugins.webhook import verify

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).with_name("fixtures") / "pengli-12345"
T = "cn.test.pengli12345"
SECRET = "12345-回单-secret"

ORDER = {"工单编号": "GD20260302001", "接收时间": "2026-03-02 09:30:00", "信息来源": "电话", "来电类别": "市民来电",
         "受理类型": "投诉", "联系人": "张三", "联系电话": "138-0000-0000", "地址": "彭李街道锦绣小区3号楼",
         "问题描述": "小区门口有人违法搭建彩钢房\n已持续一周", "一级分类": "城乡建设", "二级分类": "违法建设",
         "紧急程度": "一般", "是否保密": "否", "承办单位": "彭李街道", "转办意见": "请核实处理",
         "办结时限": "2026-03-09 17:30", "办理轨迹": [{"时间": "2026-03-02 09:31", "操作": "派单"}]}
PINYIN = {"order_no": "GD20260302001", "received_at": "2026-03-02T09:30:00+08:00", "source": "电话",
          "call_category": "市民来电", "request_type": "投诉", "contact_name": "张三", "contact_phone": "138-0000-0000",
          "address": "彭李街道锦绣小区3号楼", "description": "小区门口有人违法搭建彩钢房\n已持续一周",
          "category_1": "城乡建设", "category_2": "违法建设", "urgency": "一般", "confidential": False,
          "handling_unit": "彭李街道", "dispatch_note": "请核实处理", "due_at": "2026-03-09 17:30",
          "history": [{"时间": "2026-03-02 09:31", "操作": "派单"}]}


@pytest.fixture(scope="module")
def pack():
    return PackLoader((ROOT / "examples" / "counties",)).load(FIXTURE)


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("WANGGE_TEST_12345_SECRET", SECRET)
    return SECRET


def router_for(pack):
    from wangge.core.routing import Router

    return Router.from_pack(pack)


# -- the order ------------------------------------------------------------------------------------
def test_chinese_and_pinyin_keys_mean_the_same_order():
    assert parse_order(ORDER) == parse_order(PINYIN)
    order = parse_order(ORDER)
    assert order.categories == ("城乡建设", "违法建设") and order.urgency == "normal" and not order.confidential
    assert order.received_at.utcoffset() == timedelta(hours=8)
    assert parse_order({**ORDER, "一级分类": None, "二级分类": None, "分类": "城乡建设/违法建设"}).categories == order.categories


def test_every_bad_field_is_reported_in_chinese_at_once():
    bad = {"接收时间": "昨天", "受理类型": "表扬", "联系电话": "打我电话", "紧急程度": "很急", "是否保密": "也许",
           "问题描述": "x"}
    with pytest.raises(OrderError) as err:
        parse_order(bad)
    assert set(err.value.errors) == {"工单编号", "接收时间", "受理类型", "联系电话", "紧急程度", "是否保密"}
    assert "缺少必填字段「工单编号」" in err.value.errors["工单编号"]
    assert "咨询/投诉/求助/建议/举报" in err.value.errors["受理类型"]
    with pytest.raises(OrderError) as err:
        parse_order(["not", "an", "order"])
    assert "JSON 对象" in err.value.errors["工单"]


@pytest.mark.parametrize("number", ["110", "119", "120", "122"])
def test_110_119_120_122_orders_are_refused(number):
    with pytest.raises(OrderError) as err:
        parse_order({**ORDER, "来电类别": f"{number}联动"})
    assert "国办发〔2020〕53号" in err.value.errors["来电类别"]
    parse_order({**ORDER, "来电类别": "12345"})  # 12345 itself is not an emergency number


def test_the_field_table_covers_the_brief():
    names = {f.name for f in FIELDS}
    assert {"工单编号", "接收时间", "信息来源", "来电类别", "受理类型", "联系人", "联系电话", "地址", "问题描述", "一级分类",
            "五级分类", "紧急程度", "是否保密", "承办单位", "转办意见", "办结时限", "办理轨迹", "回退/延期", "答复",
            "回访满意度"} <= names


# -- mapping onto the pack -------------------------------------------------------------------------
def test_order_to_event_maps_class_unit_and_channel(pack):
    event = order_to_event(ORDER, pack, pack.plugins["hotline_12345"].settings)
    assert event["class"] == "srhj_weijian"            # the typed rule for 投诉 + 城乡建设/违法建设
    assert event["unit"] == "37160200800301"          # address keyword 锦绣小区
    assert pack.channels[event["channel"]].maps_to == "hotline_12345"
    assert event["external_id"] == "12345:GD20260302001" and event["reporter"] == "张三"
    assert event["data"]["hotline"]["工单编号"] == "GD20260302001"
    parsed = parse_event(event, pack)                 # a valid event of this pack
    assert parsed.reported_at == datetime(2026, 3, 2, 1, 30, tzinfo=timezone.utc)


def test_class_rules_defaults_and_unit_fallbacks(pack):
    settings = pack.plugins["hotline_12345"].settings
    # The untyped rule for the same category when the type differs.
    assert order_to_event({**ORDER, "受理类型": "建议"}, pack, settings)["class"] == "qita_qita"
    # A 分类 named like a pack class.
    assert order_to_event({**ORDER, "二级分类": "暴露垃圾"}, pack, settings)["class"] == "srhj_baolu"
    # Else by 受理类型 through the reference classes (咨询 → 政策咨询).
    assert order_to_event({**ORDER, "受理类型": "咨询", "一级分类": "公积金", "二级分类": ""}, pack,
                          settings)["class"] == "zcxc_zixun"
    # A unit named in the address; else the default unit.
    named = order_to_event({**ORDER, "地址": "彭李街道社区2第3网格内"}, pack, settings)["unit"]
    assert pack.grid.units[named].name == "彭李街道社区2第3网格"
    assert order_to_event({**ORDER, "地址": "不知道哪里"}, pack, settings)["unit"] == "371602008"


def test_a_confidential_order_keeps_the_caller_out_of_the_case(pack):
    event = order_to_event({**ORDER, "是否保密": "是"}, pack, pack.plugins["hotline_12345"].settings)
    assert "reporter" not in event
    assert "联系人" not in event["data"]["hotline"] and "联系电话" not in event["data"]["hotline"]
    assert "张三" not in json.dumps(event, ensure_ascii=False)


def test_settings_are_checked_against_the_pack(pack):
    problems = settings_problems({"units": {"x": "999"}, "classes": [{"type": "表扬", "class": "nope"}],
                                  "platform_url": "ftp://x", "colour": 1, "default_unit": "000"}, pack)
    text = "\n".join(problems)
    for needle in ("未知设置「colour」", "ftp://x", "没有签名密钥", "「999」不存在", "type「表扬」", "「nope」不存在",
                   "default_unit「000」"):
        assert needle in text, needle
    assert settings_problems(pack.plugins["hotline_12345"].settings, pack) == []
    assert parse_settings({}, pack).units == ()


# -- intake ---------------------------------------------------------------------------------------
def test_redelivery_creates_one_case(database, pack):
    router = router_for(pack)
    first = receive_order(database, T, pack, ORDER, router=router)
    again = receive_order(database, T, pack, PINYIN, router=router)      # the same order, other keys
    assert first.created and not again.created and first.case_id == again.case_id
    with database.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(cases).where(cases.c.tenant == T)).scalar()
        ext = conn.execute(select(cases.c.external_id).where(cases.c.tenant == T)).scalar()
    assert count == 1 and ext == "12345:GD20260302001"


def test_concurrent_redeliveries_still_create_one_case(database, pack):
    router = router_for(pack)
    results, errors = [], []

    def deliver() -> None:
        try:
            results.append(receive_order(database, T, pack, {**ORDER, "工单编号": "GD-RACE"}, router=router))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({r.case_id for r in results}) == 1 and sum(r.created for r in results) == 1
    with database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar() == 1


def test_a_bad_order_creates_nothing(database, pack):
    with pytest.raises(OrderError):
        receive_order(database, T, pack, {**ORDER, "来电类别": "110"}, router=router_for(pack))
    with database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar() == 0


def close_case(database, pack, case_id, note):
    """Close the case by whichever closing action the routed case allows (routing decides where it sits)."""
    case = get_case(database, T, case_id)
    closed = {s.id for s in pack.workflow.states.values() if s.kind == "closed"}
    candidates = [Actor.of(role.id, unit) for unit in (case.unit_code, case.handler_unit, "371602008") if unit
                  for role in pack.grid.roles if role.level == pack.grid.units[unit].level]
    for actor in candidates:
        for action in actions_for(database, T, case_id, actor, pack):
            if pack.workflow.transition(action).to in closed:
                return act(database, T, pack, case_id, action, actor, note=note)
    raise AssertionError(f"no closing action for a case in state {case.state}")


# -- replies --------------------------------------------------------------------------------------
def _pm_and_context(pack, url):
    settings = hooks.enabled_plugins(pack)
    settings["hotline_12345"] = {**settings["hotline_12345"], "platform_url": url}
    pm = hooks.plugin_manager(settings)
    return pm, hooks.HookContext(pack=pack, tenant=T, settings=settings)


def test_closing_a_12345_case_sends_a_signed_reply(database, pack, secret, receiver):
    pm, context = _pm_and_context(pack, receiver.url + "/12345/reply")
    intake = receive_order(database, T, pack, ORDER, router=router_for(pack))
    close_case(database, pack, intake.case_id, note="已拆除彩钢房,恢复原状")
    with database.engine.begin() as conn:  # the portal runs this in act()'s transaction once cases call it
        observed = observe_case_change(conn, T, pm, context, intake.case_id)
    assert observed.errors == ()
    # The workflow's own "notify" rows (for the portal's to-do lists) sit beside the reply.
    [reply] = [m for m in messages(database, T, case_id=intake.case_id) if m.kind == REPLY_KIND]
    assert reply.kind == REPLY_KIND and reply.payload["类型"] == "回单"
    assert reply.payload["工单编号"] == "GD20260302001" and reply.payload["答复"] == "已拆除彩钢房,恢复原状"
    senders = hooks.senders(pm, context)
    report = deliver_due(database, senders, datetime.now(timezone.utc), tenant=T)
    assert report.sent >= 1
    [request] = receiver.requests
    assert request.path == "/12345/reply" and verify(secret, request.headers, request.body)
    assert json.loads(request.body)["类型"] == "回单"
    assert [m.status for m in messages(database, T, case_id=intake.case_id) if m.kind == REPLY_KIND] == [SENT]


def test_a_visit_result_is_sent_back_and_other_steps_are_not(pack):
    from wangge.plugins.hotline_12345 import reply_requests

    settings = parse_settings({**pack.plugins["hotline_12345"].settings, "visit_actions": ["evaluate"]}, pack)
    case = {"id": "c1", "external_id": "12345:GD1", "unit_code": "371602008"}
    visit = reply_requests(pack, settings, case, {"action": "evaluate", "from_state": "closed",
                                                  "to_state": "evaluated", "data": {"input": {}, "回访满意度": "满意"}})
    assert [(r.kind, r.payload["类型"], r.payload["回访满意度"]) for r in visit] == [(REPLY_KIND, "回访", "满意")]
    assert reply_requests(pack, settings, case, {"action": "register", "from_state": "reported",
                                                 "to_state": "registered"}) == []
    assert [r.payload["类型"] for r in reply_requests(pack, settings, case, {"action": "extend"})] == ["延期"]
    # A case that did not come from 12345 never replies.
    assert reply_requests(pack, settings, {**case, "external_id": None}, {"action": "close", "to_state": "closed"}) == []


# -- HTTP -----------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Using `httpx` with")  # starlette TestClient on httpx
def test_the_http_endpoint(database, pack):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from wangge.plugins.webhook import SIGNATURE, TIMESTAMP, encode, sign

    app = Starlette(routes=hotline_routes(database, T, pack, verify_secret="inbound", router=router_for(pack)))
    client = TestClient(app)

    def post(order, secret="inbound"):
        body = encode(order)
        stamp = str(int(datetime.now().timestamp()))
        return client.post("/12345/orders", content=body,
                           headers={TIMESTAMP: stamp, SIGNATURE: sign(secret, stamp, body)})

    created = post(ORDER)
    assert created.status_code == 201 and created.json()["created"] is True
    again = post(ORDER)
    assert again.status_code == 200 and again.json()["case_id"] == created.json()["case_id"]
    bad = post({**ORDER, "工单编号": "GD2", "受理类型": "表扬"})
    assert bad.status_code == 422 and "受理类型" in bad.json()["errors"]
    assert post(ORDER, secret="wrong").status_code == 401
