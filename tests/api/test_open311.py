"""Open311 GeoReport v2: services from event classes, attributes from the event form, a round trip."""
from __future__ import annotations

BASE = "/alpha/open311/v2"


def test_services_and_definition(client):
    services = client.get(f"{BASE}/services.json").json()
    baolu = next(s for s in services if s["service_code"] == "srhj_baolu")
    assert baolu["service_name"] == "暴露垃圾" and baolu["group"] == "市容环境" and baolu["metadata"] is True
    attrs = client.get(f"{BASE}/services/srhj_baolu.json").json()["attributes"]
    codes = {a["code"]: a for a in attrs}
    assert codes["title"]["description"] == "事件名称" and codes["category"]["datatype"] == "singlevaluelist"
    assert client.get(f"{BASE}/services/nope.json").status_code == 404


def test_round_trip(client, token):
    t = token()
    r = client.post(f"{BASE}/requests.json", data={
        "api_key": t, "service_code": "srhj_baolu", "address_string": "甲县东一社区第2网格 3号楼门口",
        "lat": "37.38", "long": "117.97", "description": "门口垃圾堆放多日", "attribute[people_involved]": "3"})
    assert r.status_code == 201, r.text
    request_id = r.json()[0]["service_request_id"]
    public = client.get(f"{BASE}/requests/{request_id}.json").json()[0]
    assert public["status"] == "open" and public["service_code"] == "srhj_baolu"
    assert "description" not in public, "without api_key only public fields"
    full = client.get(f"{BASE}/requests/{request_id}.json?api_key={t}").json()[0]
    assert full["description"] == "门口垃圾堆放多日" and full["address_id"] == "14010100102" and full["lat"] == 37.38
    case = client.get(f"/alpha/api/v1/cases/{request_id}", headers={"Authorization": f"Bearer {t}"}).json()
    assert case["event"]["data"]["people_involved"] == 3
    listed = client.get(f"{BASE}/requests.json?status=open&service_code=srhj_baolu").json()
    assert [x["service_request_id"] for x in listed] == [request_id]
    assert client.get(f"{BASE}/requests.json?status=closed").json() == []


def test_post_errors_are_open311_shaped(client, token):
    t = token()
    r = client.post(f"{BASE}/requests.json", data={"service_code": "srhj_baolu"})
    assert r.status_code == 401 and r.json()[0]["code"] == 401
    r = client.post(f"{BASE}/requests.json", data={"api_key": t, "service_code": "srhj_baolu", "lat": "1", "long": "2"})
    assert r.status_code == 400 and "address_string" in r.json()[0]["description"]
    r = client.post(f"{BASE}/requests.json", data={"api_key": t, "service_code": "nope", "attribute[unit]": "14010100101"})
    assert r.status_code == 404
    r = client.post(f"{BASE}/requests.json", data={"api_key": token("beta"), "service_code": "srhj_baolu",
                                                   "attribute[unit]": "14010100101"})
    assert r.status_code == 401
