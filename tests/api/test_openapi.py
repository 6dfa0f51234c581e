"""The OpenAPI 3.1 document validates and describes every mounted endpoint."""
from __future__ import annotations

from openapi_spec_validator import validate

from wangge.web.api import OPEN311_BASE, API_BASE


def test_openapi_document_is_valid_and_complete(client):
    doc = client.get("/openapi.json").json()
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    paths = doc["paths"]
    for path, method in [("/events", "post"), ("/cases", "get"), ("/cases/{case_id}", "get"),
                         ("/cases/{case_id}/actions", "post"), ("/forms", "get"), ("/forms/{form_id}", "get"),
                         ("/forms/{form_id}/submissions", "post"), ("/indicators", "get"), ("/pack", "get")]:
        assert method in paths[API_BASE + path], path
    for path in ("/services.json", "/services/{code}.json", "/requests.json", "/requests/{request_id}.json"):
        assert OPEN311_BASE + path in paths
    assert paths[API_BASE + "/events"]["post"]["security"] == [{"bearer": ["events:write"]}]


def test_county_document_is_valid(client):
    doc = client.get("/alpha/api/v1/openapi.json").json()
    validate(doc)
    assert doc["servers"][0]["url"] == "/alpha" and "/api/v1/events" in doc["paths"]
    assert client.get("/openapi.json").json()["paths"]  # the shared document is untouched
