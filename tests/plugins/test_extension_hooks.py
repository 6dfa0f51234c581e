"""The extension hooks end to end: a pack that enables a plugin gets its expression functions, form field
types and validators, indicators and intake channels — and a pack that does not, does not.

The test plugins are in fixtures/extension_plugins.py; the ``extension_plugins`` fixture makes them look
installed (entry points), so the loader, stored snapshots and the portal find them as they find real ones.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from wangge.core import hooks
from wangge.core.cases.versions import compile_snapshot
from wangge.core.pack.loader import PackLoader
from wangge.core.pack.problems import PackError
from wangge.forms.app import forms_app
from wangge.forms.validate import Validation

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).with_name("fixtures")
SEARCH = (ROOT / "examples" / "counties", FIXTURES)
PACK = FIXTURES / "extensions"
NOW = datetime(2026, 3, 2, 10, 0)


def load(location: Path = PACK):  # type: ignore[no-untyped-def]
    return PackLoader(SEARCH).load(location)


def problems_of(location: Path = PACK) -> list:
    with pytest.raises(PackError) as err:
        load(location)
    return err.value.problems


def child_pack(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pack.yaml").write_text(
        'pack: {id: cn.test.extchild, name: 子包, region: "371602008", version: 1.0.0,\n'
        '       extends: {id: cn.test.extensions, version: ">=1.0,<2"}}\n' + body, encoding="utf-8")
    return tmp_path


# -- expression functions ------------------------------------------------------------------------------
def test_plugin_functions_work_in_forms_routing_and_the_browser(extension_plugins):
    pack = load()
    form = pack.forms["cheliang"]
    seats = form.field("seats")
    assert seats.constraint.expr.test({".": 10}) and not seats.constraint.expr.test({".": 11})
    assert "x * 2" in seats.constraint.js                       # the plugin's JavaScript, for the browser
    rule = next(r for t in pack.routing.tables for r in t.rules if r.id == "test_upper")
    assert all(c.test({"title": "plugin"}) for c in rule.condition.conjuncts)   # a server-only function is fine here
    outcome = Validation.of(form, pack.grid).run({"plate": ["鲁M12345"], "seats": ["11"]}, now=NOW)
    assert outcome.errors["seats"] == ("座位数过多",)
    assert outcome.values["seats2"] == 22


def test_a_stored_snapshot_compiles_with_the_same_functions(extension_plugins):
    pack = load()
    content = json.dumps({k: v for k, v in pack.snapshot.items()}, default=str)
    again = compile_snapshot("d" * 64, content)
    assert again.forms["cheliang"].field("seats").constraint.expr.test({".": 3})
    assert "test_close_rate" in again.indicators


def test_without_the_plugins_the_pack_fails_clearly():
    problems = problems_of()
    bad = [p for p in problems if p.code == "BAD_EXPRESSION"]
    assert any("test_double" in p.message and "插件" in p.hint and "test_functions" in p.hint for p in bad)
    assert any("test_upper" in p.message and "not be installed or enabled" in p.hint for p in bad)
    assert any(p.code == "UNKNOWN_TYPE" and "test_plate" in p.message and "插件" in p.hint for p in problems)
    assert any(p.code == "UNKNOWN_VALIDATOR" and "test_not_listed" in p.message for p in problems)


def test_an_installed_plugin_the_pack_does_not_enable_adds_nothing(extension_plugins, tmp_path):
    pack = child_pack(tmp_path, "plugins:\n  - {id: test_functions, enabled: false}\n")
    problems = problems_of(pack)
    assert {p.code for p in problems} == {"BAD_EXPRESSION"}
    assert all("test_double" in p.message or "test_upper" in p.message for p in problems)


def test_a_function_without_javascript_is_refused_only_in_forms(extension_plugins, tmp_path):
    pack = child_pack(tmp_path, "forms:\n  - id: x\n    title: x\n    fields:\n"
                                "      - {id: a, type: text, label: 甲, relevant: \"test_upper(${b}) == 'Y'\"}\n"
                                "      - {id: b, type: text, label: 乙}\n")
    [problem] = problems_of(pack)
    assert problem.code == "BAD_EXPRESSION" and "没有 JavaScript 实现" in problem.message


def test_an_unknown_function_still_names_itself(extension_plugins, tmp_path):
    pack = child_pack(tmp_path, "forms:\n  - id: x\n    title: x\n    fields:\n"
                                "      - {id: a, type: integer, label: 甲, constraint: \"test_tripple(.) < 3\"}\n")
    [problem] = problems_of(pack)
    assert problem.code == "BAD_EXPRESSION" and "test_tripple" in problem.message
    assert "是否想写 test_" in problem.message                     # did you mean …
    assert "plugins:" in problem.hint


# -- form field types and validators --------------------------------------------------------------------
def test_plugin_field_type_and_validator_validate_on_the_server(extension_plugins):
    pack = load()
    form = pack.forms["cheliang"]
    run = Validation.of(form, pack.grid).run
    ok = run({"plate": ["鲁m 12345"], "seats": ["5"], "phone2": ["13800000001"]}, now=NOW)
    assert ok.ok and ok.values["plate"] == "鲁M12345"
    assert run({"plate": ["12345"]}, now=NOW).errors["plate"] == ("车牌号格式不正确,如 鲁M12345",)
    assert run({"plate": ["鲁M00000"]}, now=NOW).errors["plate"] == ("该号码已列入黑名单",)
    assert run({}, now=NOW).errors["plate"] == ("此项为必填",)
    assert ok.values["phone2"] == "13800000001"


def test_plugin_field_type_renders_and_posts_through_the_forms_app(extension_plugins, database, tmp_path):
    pack = load()
    client = TestClient(forms_app([pack], database, secret=b"s" * 32, uploads=tmp_path / "uploads"))
    page = client.get(f"/{pack.id}/cheliang")
    assert page.status_code == 200
    assert 'name="plate"' in page.text and 'data-type="test_plate"' in page.text
    rules = client.get(f"/{pack.id}/cheliang/rules-1.0.0.js")
    assert "x * 2" in rules.text


def test_unknown_field_type_is_reported_with_the_plugin_hint(extension_plugins, tmp_path):
    pack = child_pack(tmp_path, "forms:\n  - id: x\n    title: x\n    fields:\n"
                                "      - {id: a, type: test_plates, label: 甲, validators: [nope]}\n")
    problems = problems_of(pack)
    assert {p.code for p in problems} == {"UNKNOWN_TYPE"}
    assert '是不是 "test_plate"' in problems[0].hint and "plugins:" in problems[0].hint


# -- indicators ------------------------------------------------------------------------------------------
def test_plugin_indicators_are_compiled_and_computed_in_sql(extension_plugins, database):
    from wangge.core.cases import open_case
    from wangge.core.routing import Router
    from wangge.core.scoring import compute_indicators, parse_period
    from wangge.core.workcal import SHANGHAI
    from wangge.core.workflow import Actor

    pack = load()
    assert pack.indicators["test_close_rate"].denominator.fact == "reported"
    router = Router.from_pack(pack)
    at = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
    for n, channel in enumerate(["grid_patrol", "grid_patrol", "resident_report"]):
        event = {"id": f"ev-{n}", "class": "srhj_jicun", "channel": channel, "unit": "37160200800101", "title": f"积水 {n}",
                 "reported_at": (at + timedelta(minutes=n)).isoformat(), "description": "路面积水"}
        from wangge.core.events import parse_event
        parsed = parse_event(event, pack)
        open_case(database, pack.id, pack, parsed, router.decide(parsed), Actor("w1", "grid_worker"),
                  now=at + timedelta(minutes=n))
    values = {v.indicator: v for v in compute_indicators(
        database, pack.id, pack, parse_period("2026-03"), indicators=["test_close_rate", "test_reported"])}
    assert (values["test_reported"].numerator, values["test_reported"].denominator) == (2, None)
    assert (values["test_close_rate"].numerator, values["test_close_rate"].denominator) == (0, 3)


def test_a_declared_indicator_overrides_the_plugins(extension_plugins, tmp_path):
    pack = child_pack(tmp_path, "indicators:\n  - {id: test_reported, name: 本县上报数, unit: count,"
                                " numerator: {fact: reported}}\n")
    assert load(pack).indicators["test_reported"].name == "本县上报数"


def test_without_the_plugin_its_indicators_are_absent(extension_plugins, tmp_path):
    pack = child_pack(tmp_path, "plugins:\n  - {id: test_indicators, enabled: false}\n")
    assert "test_close_rate" not in load(pack).indicators


# -- intake channels -------------------------------------------------------------------------------------
@pytest.fixture
def portal(extension_plugins, database):  # type: ignore[no-untyped-def]
    from wangge.web.api.auth import create_token
    from wangge.web.app import create_app
    from wangge.web.deployment import County, Deployment

    pack = load()
    deployment = Deployment({"ext": County("ext", pack, PACK)}, database, b"test-secret")
    token = create_token(database, "ext", "sensor", ["events:write"])[1]
    reader = create_token(database, "ext", "reader", ["cases:read"])[1]
    with TestClient(create_app(deployment, deliver=False)) as client:
        yield client, token, reader


SENSOR = {"alarm_id": "A-1", "unit": "37160200800101", "at": "2026-03-02T09:30:00+08:00", "text": "低洼处积水 30 cm"}


def test_intake_channel_opens_one_case_per_external_id(portal, database):
    from sqlalchemy import select

    from wangge.core.store.tables import cases

    client, token, _ = portal
    headers = {"Authorization": f"Bearer {token}"}
    first = client.post("/ext/intake/test_sensor", json=SENSOR, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["created"] and first.json()["external_id"] == "sensor:A-1"
    again = client.post("/ext/intake/test_sensor", json=SENSOR, headers=headers)
    assert again.status_code == 200 and again.json() == {**first.json(), "created": False}
    other = client.post("/ext/intake/test_sensor", json={**SENSOR, "alarm_id": "A-2"}, headers=headers)
    assert other.status_code == 201 and other.json()["case_id"] != first.json()["case_id"]
    with database.engine.connect() as conn:
        rows = conn.execute(select(cases.c.external_id, cases.c.event_class).where(cases.c.tenant == "ext")).all()
    assert sorted(rows) == [("sensor:A-1", "srhj_jicun"), ("sensor:A-2", "srhj_jicun")]


def test_intake_channel_refuses_bad_payloads_tokens_and_channels(portal):
    client, token, reader = portal
    headers = {"Authorization": f"Bearer {token}"}
    bad = client.post("/ext/intake/test_sensor", json={"alarm_id": "A-3"}, headers=headers)
    assert bad.status_code == 422 and bad.json() == {"errors": {"报文": "传感器报文缺少字段: unit, at"}}
    wrong_unit = client.post("/ext/intake/test_sensor", json={**SENSOR, "alarm_id": "A-4", "unit": "999"},
                             headers=headers)
    assert wrong_unit.status_code == 422 and any(k.startswith("事件.") for k in wrong_unit.json()["errors"])
    assert client.post("/ext/intake/test_sensor", json=SENSOR).status_code == 401
    assert client.post("/ext/intake/test_sensor", json=SENSOR,
                       headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    assert client.post("/ext/intake/nope", json=SENSOR, headers=headers).status_code == 404
    assert client.post("/nowhere/intake/test_sensor", json=SENSOR, headers=headers).status_code == 404


def test_only_channels_of_enabled_plugins_are_offered(extension_plugins):
    pack = load()
    pm = hooks.plugin_manager(hooks.enabled_plugins(pack))
    offered = hooks.intake_channel_plugins(pm, hooks.context_for(pack))
    assert offered["test_sensor"][0] == "test_intake"
    assert "hotline_12345" not in offered                       # builtin, but this pack does not enable it
    assert "test_sensor" not in hooks.intake_channel_plugins(pm, hooks.context_for(None, "x"))
