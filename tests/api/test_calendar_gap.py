"""A report whose deadline falls in a year the calendar does not know is still taken: the case opens
without a deadline, and its history and route trace say why (never a guessed deadline, never a 500)."""
from __future__ import annotations


def test_report_into_an_unknown_calendar_year_opens_a_case_without_deadline(client, token, auth, event):
    t = token()
    # 1 工作日 from the last working day of 2026 lands in 2027, which neither chinese-calendar nor the pack knows.
    r = client.post("/alpha/api/v1/events", json=event("eoy", reported_at="2026-12-31T10:00:00+08:00"),
                    headers=auth(t))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["due_at"] is None
    case = client.get(f"/alpha/api/v1/cases/{body['case_id']}", headers=auth(t)).json()
    opened = case["history"][0]
    assert opened["action"] == "open" and "无法计算办理期限" in opened["note"] and "2027" in opened["note"]
    assert any("无法计算办理期限" in str(step) for step in case["decision"]["trace"])
    # The same report earlier in the year gets its deadline as usual.
    r = client.post("/alpha/api/v1/events", json=event("dec", reported_at="2026-12-01T10:00:00+08:00"),
                    headers=auth(t))
    assert r.status_code == 201 and r.json()["due_at"].startswith("2026-12-02")
