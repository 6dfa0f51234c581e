"""Signed webhooks against a real HTTP server on loopback, delivered through the outbox."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

from wangge.core import hooks
from wangge.core.outbox import PENDING, SENT, RetryPolicy, deliver_due, enqueue, messages
from wangge.plugins.webhook import DELIVERY, EVENT, SIGNATURE, TIMESTAMP, WebhookSender, sign, verify

T = "cn.test.webhook"
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
SECRET = "s3cr3t-彭李"


def test_sign_and_verify():
    body = '{"工单编号":"A1"}'.encode()
    stamp = int(time.time())
    headers = {TIMESTAMP.lower(): str(stamp), SIGNATURE.upper(): sign(SECRET, stamp, body)}
    assert verify(SECRET, headers, body)
    assert not verify(SECRET, headers, body + b" ")                  # tampered body
    assert not verify("other", headers, body)                         # wrong secret
    assert not verify(SECRET, headers, body, now=stamp + 301)          # replayed too late
    assert not verify(SECRET, {TIMESTAMP: "x", SIGNATURE: "sha256=00"}, body)
    assert not verify(SECRET, {}, body)
    assert sign(SECRET, 1, b"{}") == sign(SECRET.encode(), "1", b"{}")


def test_500_then_200_is_retried_then_sent_with_valid_signatures(database, receiver):
    receiver.statuses = [500]
    with database.engine.begin() as conn:
        mid = enqueue(conn, T, "webhook", receiver.url + "/hook", {"事件": "结案", "case": "c1"}, "c1", now=NOW)
    senders = {"webhook": WebhookSender(SECRET, timeout=5)}
    policy = RetryPolicy(max_attempts=5, base_delay=timedelta(seconds=10))
    first = deliver_due(database, senders, NOW, policy=policy)
    assert first.outcomes[0].status == PENDING and "HTTP 500" in first.outcomes[0].error
    second = deliver_due(database, senders, NOW + timedelta(seconds=11), policy=policy)
    assert second.sent == 1
    [m] = messages(database, T)
    assert (m.status, m.attempts) == (SENT, 2)
    assert len(receiver.requests) == 2
    for request in receiver.requests:
        assert request.path == "/hook"
        assert verify(SECRET, request.headers, request.body)
        assert request.headers[DELIVERY] == mid and request.headers[EVENT] == "webhook"
        assert json.loads(request.body) == {"事件": "结案", "case": "c1"}


def test_an_unreachable_receiver_is_an_error_not_a_crash(database):
    with database.engine.begin() as conn:
        enqueue(conn, T, "webhook", "http://127.0.0.1:9/nothing", {"a": 1}, now=NOW)
    report = deliver_due(database, {"webhook": WebhookSender(SECRET, timeout=1)}, NOW, attempt_timeout=5)
    assert report.outcomes[0].status == PENDING and report.outcomes[0].error


def test_the_plugin_offers_its_sender_and_observer_only_when_the_pack_enables_it(receiver):
    pm = hooks.plugin_manager({})
    assert "webhook" not in hooks.senders(pm, hooks.HookContext(tenant=T))
    settings = {"webhook": {"secret": SECRET, "urls": [receiver.url + "/cases"], "actions": ["close"]}}
    context = hooks.HookContext(tenant=T, settings=settings)
    assert isinstance(hooks.senders(pm, context)["webhook"], WebhookSender)
    observed = hooks.case_event(pm, context, {"id": "c1", "state": "closed"}, {"action": "close", "seq": 3})
    assert [(r.kind, r.target, r.payload["event"]) for _, r in observed.requests] == [
        ("webhook", receiver.url + "/cases", "case.close")]
    assert hooks.case_event(pm, context, {"id": "c1"}, {"action": "dispatch"}).requests == ()
    problems = hooks.check_pack(pm, hooks.HookContext(tenant=T, settings={"webhook": {"urls": ["ftp://x"]}}))
    assert {p for _, p in problems} == {"webhook: 缺少签名密钥设置 secret_env(推荐)或 secret",
                                        "webhook: 接收地址 ftp://x 必须以 http:// 或 https:// 开头"}


def test_the_secret_can_come_from_the_environment(monkeypatch):
    pm = hooks.plugin_manager({})
    monkeypatch.setenv("WANGGE_TEST_HOOK_SECRET", "from-env")
    context = hooks.HookContext(tenant=T, settings={"webhook": {"secret_env": "WANGGE_TEST_HOOK_SECRET"}})
    assert hooks.senders(pm, context)["webhook"].secret == "from-env"
    monkeypatch.delenv("WANGGE_TEST_HOOK_SECRET")
    # Missing secret: the sender is left out (messages wait, retried), nothing raises.
    assert "webhook" not in hooks.senders(pm, context)
