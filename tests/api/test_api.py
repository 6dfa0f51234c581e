"""HTTP tests of every JSON API endpoint through Starlette's test client (SQLite, and PostgreSQL when
WANGGE_TEST_PG_URL is set)."""
from __future__ import annotations



def test_post_event_opens_a_case_with_history_and_trace(client, token, auth, event):
    t = token()
    r = client.post("/alpha/api/v1/events", json=event(1), headers=auth(t))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["duplicate"] is False and body["state"] and body["due_at"].startswith("2026-03-03")
    case = client.get(f"/alpha/api/v1/cases/{body['case_id']}", headers=auth(t)).json()
    assert case["event_class_name"] == "暴露垃圾" and case["unit_name"] == "东一社区第1网格"
    assert case["history"][0]["action"] == "open" and case["history"][0]["actor"] == "api:test"
    assert "trace" in case["decision"], "the routing decision is kept with its trace"
    assert any(a["id"] == "accept" for a in case["actions"])


def test_external_id_is_idempotent(client, token, auth, event):
    t = token()
    first = client.post("/alpha/api/v1/events", json=event(1, external_id="GD-1"), headers=auth(t))
    again = client.post("/alpha/api/v1/events", json=event(2, external_id="GD-1"), headers=auth(t))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["duplicate"] is True and again.json()["case_id"] == first.json()["case_id"]
    assert client.get("/alpha/api/v1/cases?external_id=GD-1", headers=auth(t)).json()["total"] == 1


def test_bad_event_gets_per_field_chinese_errors(client, token, auth, event):
    r = client.post("/alpha/api/v1/events", json=event(1, unit="999", urgency="asap", people=-1), headers=auth(token()))
    assert r.status_code == 422
    fields = r.json()["error"]["fields"]
    assert "网格单元" in fields["unit"] and "紧急程度" in fields["urgency"] and "涉及人数" in fields["people"]
    r = client.post("/alpha/api/v1/events", content=b"{not json", headers=auth(token()))
    assert r.status_code == 400 and "JSON" in r.json()["error"]["message"]


def test_text_no_column_can_hold_is_refused_per_field_and_spares_the_others(client, token, auth, event):
    # A NUL character, or an external id / reporter longer than their 128-character columns: PostgreSQL
    # would refuse the row and with it the whole group commit; it is a 422 for that event alone.
    bad = [event(1, external_id="A\u00001"), event(2, title="标题\u0000"), event(3, external_id="长" * 129),
           event(4, reporter="r" * 129)]
    good = [event(10 + i, external_id=f"OK-{i}", title="楼道\t堆放 \"杂物\"") for i in range(3)]
    t = token()
    answers = [client.post("/alpha/api/v1/events", json=e, headers=auth(t)) for e in (*bad, *good)]
    fields = [r.json()["error"]["fields"] for r in answers[:4]]
    assert [r.status_code for r in answers] == [422] * 4 + [201] * 3
    assert "U+0000" in fields[0]["external_id"] and "U+0000" in fields[1]["title"]
    assert "128" in fields[2]["external_id"] and "129" in fields[2]["external_id"] and "128" in fields[3]["reporter"]
    listed = client.get("/alpha/api/v1/cases", headers=auth(t)).json()
    assert {c["external_id"] for c in listed["items"]} == {"OK-0", "OK-1", "OK-2"}


def test_auth_missing_wrong_revoked_and_scope(client, token, deployment, auth, event):
    from wangge.web.api.auth import create_token, revoke_token

    assert client.post("/alpha/api/v1/events", json=event(1)).status_code == 401
    r = client.post("/alpha/api/v1/events", json=event(1), headers=auth("wg_nope"))
    assert r.status_code == 401 and "令牌" in r.json()["error"]["message"] and r.headers["www-authenticate"]
    token_id, t = create_token(deployment.database, "alpha", "old", ["events:write"])
    revoke_token(deployment.database, "alpha", token_id)
    r = client.post("/alpha/api/v1/events", json=event(1), headers=auth(t))
    assert r.status_code == 401 and "吊销" in r.json()["error"]["message"]
    reader = token("alpha", "cases:read")
    r = client.post("/alpha/api/v1/events", json=event(1), headers=auth(reader))
    assert r.status_code == 403 and "events:write" in r.json()["error"]["message"]


def test_cross_county_isolation(client, token, auth, event):
    alpha, beta = token("alpha"), token("beta")
    assert client.post("/beta/api/v1/events", json=event(1), headers=auth(alpha)).status_code == 401
    case_id = client.post("/alpha/api/v1/events", json=event(1), headers=auth(alpha)).json()["case_id"]
    assert client.get(f"/beta/api/v1/cases/{case_id}", headers=auth(beta)).status_code == 404
    assert client.get("/beta/api/v1/cases", headers=auth(beta)).json()["total"] == 0
    assert client.get("/gamma/api/v1/cases", headers=auth(beta)).status_code == 404


def test_unit_scoped_token(client, token, auth, event):
    admin = token()
    east = token("alpha", "events:write", "cases:read", "unit:140101")
    west_event = event(9, unit="14010200101")
    assert client.post("/alpha/api/v1/events", json=west_event, headers=auth(east)).status_code == 403
    west_id = client.post("/alpha/api/v1/events", json=west_event, headers=auth(admin)).json()["case_id"]
    east_id = client.post("/alpha/api/v1/events", json=event(1), headers=auth(east)).json()["case_id"]
    listed = client.get("/alpha/api/v1/cases", headers=auth(east)).json()
    assert [c["id"] for c in listed["items"]] == [east_id]
    assert client.get(f"/alpha/api/v1/cases/{west_id}", headers=auth(east)).status_code == 403
    assert client.get("/alpha/api/v1/cases?unit=140102", headers=auth(east)).status_code == 403


def test_case_list_filters_and_pagination(client, token, auth, event):
    t = token()
    for n in range(5):
        client.post("/alpha/api/v1/events", json=event(n, **{"class": "srhj_daolu"} if n % 2 else {}), headers=auth(t))
    page = client.get("/alpha/api/v1/cases?limit=2", headers=auth(t)).json()
    assert page["total"] == 5 and len(page["items"]) == 2 and page["next_offset"] == 2
    assert client.get("/alpha/api/v1/cases?class=srhj_daolu", headers=auth(t)).json()["total"] == 2
    assert client.get("/alpha/api/v1/cases?status=open&unit=140101", headers=auth(t)).json()["total"] == 5
    r = client.get("/alpha/api/v1/cases?limit=abc", headers=auth(t))
    assert r.status_code == 422 and "整数" in r.json()["error"]["fields"]["limit"]
    assert client.get("/alpha/api/v1/cases?from=yesterday", headers=auth(t)).status_code == 422


def test_case_actions_through_the_workflow(client, token, auth, event):
    t = token()
    case_id = client.post("/alpha/api/v1/events", json=event(1), headers=auth(t)).json()["case_id"]
    url = f"/alpha/api/v1/cases/{case_id}/actions"
    r = client.post(url, json={"action": "accept", "role": "department:zhifa", "note": "收到"}, headers=auth(t))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "handling" and r.json()["history"][-1]["action"] == "accept"
    stale = client.post(url, json={"action": "finish", "role": "department:zhifa", "note": "x", "expected_seq": 1},
                        headers=auth(t))
    assert stale.status_code == 409
    assert client.post(url, json={"action": "fly", "role": "department:zhifa"}, headers=auth(t)).status_code == 422
    r = client.post(url, json={"action": "finish", "role": "department:nobody"}, headers=auth(t))
    assert r.status_code == 422 and "部门" in r.json()["error"]["fields"]["role"]
    assert client.post(url, json={"action": "accept"}, headers=auth(token("alpha", "cases:read"))).status_code == 403
    assert client.post("/alpha/api/v1/cases/nope/actions", json={"action": "accept", "role": "department:zhifa"},
                       headers=auth(t)).status_code == 404


def test_forms_list_schema_and_submission(client, token, auth, event):
    t = token()
    forms = client.get("/alpha/api/v1/forms").json()["items"]
    assert any(f["id"] == "event_report" for f in forms)
    schema = client.get("/alpha/api/v1/forms/event_report").json()["schema"]
    assert schema["properties"]["title"]["title"] == "事件名称" and "title" in schema["required"]
    assert client.get("/alpha/api/v1/forms/nope").status_code == 404
    url = "/alpha/api/v1/forms/event_report/submissions"
    bad = client.post(url, json={"data": {"title": "x"}}, headers=auth(t))
    assert bad.status_code == 422 and bad.json()["error"]["fields"]["description"]
    good = {"title": "楼道堆物", "category": "srhj", "occurred_at": "2026-03-01T10:00:00", "grid_unit": "14010100101",
            "address": "东一社区3号楼", "description": "楼道堆放大量杂物"}
    r = client.post(url, json={"data": good}, headers=auth(t))
    assert r.status_code == 201, r.text
    assert r.json()["data"]["grid_unit"] == "14010100101"
    assert client.post(url, json={"data": good}, headers=auth(token("alpha", "cases:read"))).status_code == 403


def test_indicators_per_unit_and_period(client, token, auth, event):
    t = token()
    client.post("/alpha/api/v1/events", json=event(1), headers=auth(t))
    r = client.get("/alpha/api/v1/indicators?unit=140101&period=2026-03", headers=auth(t)).json()
    assert r["engine"] == "wangge.core.scoring" and r["from"].startswith("2026-03-01")
    # The engine's periods: 上报 falls in March by its report time, 应结案 by its deadline (3 March).
    values = {i["id"]: i for i in r["indicators"]}
    assert values["shangbao_count"]["numerator"] == 1 and values["shangbao_count"]["denominator"] is None
    assert (values["jiean_rate"]["numerator"], values["jiean_rate"]["denominator"]) == (0, 1)
    assert values["jiean_rate"]["definition"] == "结案率 = 结案(closed) / 应结案(due)"   # every value states its 口径
    empty = client.get("/alpha/api/v1/indicators?period=2025-Q4", headers=auth(t)).json()
    assert all(i["numerator"] == 0 and i["denominator"] in (0, None) for i in empty["indicators"])
    r = client.get("/alpha/api/v1/indicators?period=March", headers=auth(t))
    assert r.status_code == 422 and "2026-03" in r.json()["error"]["fields"]["period"]
    assert client.get("/alpha/api/v1/indicators", headers=auth(token("alpha", "cases:read"))).status_code == 403


def test_pack_summary(client, auth, event):
    r = client.get("/alpha/api/v1/pack").json()
    assert r["id"] == "test.api.alpha" and r["workflow"]["initial"] and r["event_classes"]


def test_event_text_limits_are_the_widths_of_the_columns_they_go_to():
    from wangge.core.events import TEXT_LIMITS
    from wangge.core.store.tables import case_facts, cases

    assert TEXT_LIMITS == {"external_id": cases.c.external_id.type.length,
                           "reporter": min(cases.c.reported_by.type.length, case_facts.c.reporter.type.length)}
