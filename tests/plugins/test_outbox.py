"""The outbox: stored with the change, delivered with retries, backoff, a time limit per attempt, dead letters.

Runs on the real database (SQLite, and PostgreSQL when WANGGE_TEST_PG_URL is set).
"""
from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from wangge.core import hooks
from wangge.core.hooks import OutboxRequest, hookimpl
from wangge.core.outbox import (DEAD, PENDING, SENT, RetryPolicy, deliver_due, enqueue, enqueue_observed, messages,
                                requeue)
from wangge.core.store.tables import cases, outbox
from wangge.core.workcal import as_shanghai

T = "cn.test.outbox"
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
FAST = RetryPolicy(max_attempts=3, base_delay=timedelta(seconds=10), max_delay=timedelta(seconds=60))


def aware(moment: datetime) -> datetime:
    return as_shanghai(moment)  # SQLite returns naive Beijing time, the store's zone


class Recorder:
    def __init__(self, fail_times: int = 0, error: Exception | None = None):
        self.calls: list = []
        self.fail_times = fail_times
        self.error = error or RuntimeError("网关不可用 (gateway down)")

    def send(self, message) -> None:
        self.calls.append(message)
        if len(self.calls) <= self.fail_times:
            raise self.error


class Hangs:
    def __init__(self):
        self.release = threading.Event()

    def send(self, message) -> None:
        self.release.wait(30)  # a plugin that never answers (released at the end of the test)


def put(db, kind="notify", target="13800000000", payload=None, case_id=None, now=NOW) -> str:
    with db.engine.begin() as conn:
        return enqueue(conn, T, kind, target, payload or {"text": "您有新的案件"}, case_id, now=now)


def test_a_message_is_stored_only_if_the_callers_transaction_commits(database):
    with pytest.raises(RuntimeError):
        with database.engine.begin() as conn:
            enqueue(conn, T, "notify", "x", {"a": 1}, now=NOW)
            raise RuntimeError("the case change failed")
    assert messages(database, T) == []
    put(database)
    assert [m.status for m in messages(database, T)] == [PENDING]


def test_a_sender_that_raises_is_retried_later_with_the_error_kept(database):
    mid = put(database)
    flaky = Recorder(fail_times=1)
    report = deliver_due(database, {"notify": flaky}, NOW, worker_id="w1", policy=FAST, rng=random.Random(1))
    assert (report.sent, report.retrying, report.dead) == (0, 1, 0)
    [m] = messages(database, T)
    assert m.status == PENDING and m.attempts == 1
    assert "网关不可用" in m.last_error and "第 1 次" in m.last_error
    assert NOW + timedelta(seconds=5) <= aware(m.next_at) <= NOW + timedelta(seconds=10)
    # Not due yet: a pass now does nothing.
    assert deliver_due(database, {"notify": flaky}, NOW + timedelta(seconds=1), policy=FAST).outcomes == ()
    # Due again: delivered.
    report = deliver_due(database, {"notify": flaky}, NOW + timedelta(seconds=11), policy=FAST)
    assert report.sent == 1
    [m] = messages(database, T)
    assert (m.status, m.attempts, m.last_error, m.id) == (SENT, 2, "", mid)
    assert m.sent_at is not None
    assert [c.attempt for c in flaky.calls] == [1, 2]


def test_a_hung_sender_times_out_without_holding_up_the_others(database):
    hung, ok = Hangs(), Recorder()
    put(database, kind="slow")
    put(database, kind="notify")
    started = time.monotonic()
    try:
        report = deliver_due(database, {"slow": hung, "notify": ok}, NOW, attempt_timeout=0.3, policy=FAST)
    finally:
        hung.release.set()
    assert time.monotonic() - started < 3
    by_kind = {o.kind: o for o in report.outcomes}
    assert by_kind["notify"].status == SENT
    assert by_kind["slow"].status == PENDING and "超时" in by_kind["slow"].error
    assert len(ok.calls) == 1


def test_dead_after_the_last_attempt_and_then_left_alone(database):
    put(database)
    always = Recorder(fail_times=99, error=ConnectionError("refused"))
    moment = NOW
    statuses = []
    for _ in range(FAST.max_attempts):
        report = deliver_due(database, {"notify": always}, moment, policy=FAST)
        statuses.append(report.outcomes[0].status)
        moment += FAST.max_delay + timedelta(seconds=1)
    assert statuses == [PENDING, PENDING, DEAD]
    [m] = messages(database, T, status=DEAD)
    assert m.attempts == 3 and "ConnectionError: refused" in m.last_error and "第 3 次" in m.last_error
    assert deliver_due(database, {"notify": always}, moment + timedelta(days=1), policy=FAST).outcomes == ()
    # Once the receiver is fixed an operator can give it a fresh set of attempts.
    assert requeue(database, T, m.id, moment)
    assert deliver_due(database, {"notify": Recorder()}, moment + timedelta(seconds=1), policy=FAST).sent == 1


def test_times_in_any_zone_mean_the_same_instant(database):
    put(database, now=NOW.astimezone(as_shanghai(NOW).tzinfo))   # stored by a writer using Beijing time
    assert deliver_due(database, {"notify": Recorder()}, NOW - timedelta(seconds=1)).outcomes == ()
    assert deliver_due(database, {"notify": Recorder()}, NOW).sent == 1


def test_a_kind_without_a_sender_waits_for_its_plugin(database):
    put(database, kind="sms")
    later = NOW + timedelta(hours=5)
    # No sender for "sms", given as a mapping or per county: the message is not even claimed, so it is
    # neither retried nor given up on ...
    assert deliver_due(database, {}, later, policy=FAST).outcomes == ()
    assert deliver_due(database, {"notify": Recorder()}, later, policy=FAST).outcomes == ()
    assert deliver_due(database, lambda tenant, kind: None, later, policy=FAST, kinds={T: {"notify"}}).outcomes == ()
    [waiting] = messages(database, T)
    assert (waiting.status, waiting.attempts) == (PENDING, 0)
    # ... until a plugin that sends it is enabled.
    sms = Recorder()
    report = deliver_due(database, lambda tenant, kind: sms if kind == "sms" else None, later, policy=FAST,
                         kinds={T: {"sms"}})
    assert [o.status for o in report.outcomes] == [SENT] and len(sms.calls) == 1


def test_without_the_kinds_a_missing_sender_is_a_failed_attempt(database):
    put(database, kind="sms")
    report = deliver_due(database, lambda tenant, kind: None, NOW, policy=FAST)
    assert report.outcomes[0].status == PENDING and "没有" in report.outcomes[0].error


def test_backoff_grows_is_jittered_and_capped():
    policy = RetryPolicy(base_delay=timedelta(seconds=30), max_delay=timedelta(minutes=10), jitter=0.5)
    rng = random.Random(7)
    for attempt in range(1, 12):
        raw = min(600, 30 * 2 ** (attempt - 1))
        delay = policy.delay(attempt, rng).total_seconds()
        assert raw / 2 <= delay <= raw <= 600
    assert RetryPolicy(jitter=0).delay(3).total_seconds() == 120


def test_two_workers_never_send_the_same_message_twice(database):
    for n in range(20):
        put(database, payload={"n": n})
    seen: list = []
    lock = threading.Lock()

    class Counting:
        def send(self, message) -> None:
            time.sleep(0.01)
            with lock:
                seen.append(message.id)

    def work(name: str) -> None:
        deliver_due(database, {"notify": Counting()}, NOW, worker_id=name, limit=20)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deliver_due(database, {"notify": Counting()}, NOW + timedelta(hours=2), limit=50)  # anything left over
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 20
    assert {m.status for m in messages(database, T)} == {SENT}


def _case_row(case_id: str) -> dict:
    return dict(tenant=T, id=case_id, pack_id="cn.test", pack_version="1.0.0", external_id=None, channel="grid_patrol",
                event_class="qita_qita", ref_class="qita_qita", unit_code="1", state="reported", level="grid",
                assist=[], priority=0, reported_at=NOW, reported_by="tester", event={}, decision={}, seq=0,
                supervised=False, vars={})


def _insert_case(conn, case_id: str) -> None:
    known = set(cases.c.keys())
    conn.execute(cases.insert().values({k: v for k, v in _case_row(case_id).items() if k in known}))


class Raises:
    @hookimpl
    def wangge_case_event(self, context, case, transition):
        raise ValueError("plugin bug")


class Stalls:
    def __init__(self):
        self.release = threading.Event()

    @hookimpl
    def wangge_case_event(self, context, case, transition):
        self.release.wait(30)
        return [OutboxRequest("notify", "late", {})]


class Works:
    @hookimpl
    def wangge_case_event(self, context, case, transition):
        return [OutboxRequest("notify", "13900000000", {"case": case["id"], "action": transition["action"]})]


def test_the_case_is_stored_whatever_the_plugins_do(database):
    stalls = Stalls()
    pm = hooks.plugin_manager({}, extra=[Raises(), stalls, Works()], load_entry_points=False)
    started = time.monotonic()
    try:
        with database.engine.begin() as conn:
            _insert_case(conn, "case-1")
            observed = hooks.case_event(pm, hooks.HookContext(tenant=T), {"id": "case-1"},
                                        {"action": "report", "seq": 1}, timeout=0.3)
            enqueue_observed(conn, T, observed, "case-1", now=NOW)
    finally:
        stalls.release.set()
    assert time.monotonic() - started < 3
    assert sorted(e for _, e in observed.errors if "超时" in e or "plugin bug" in e) and len(observed.errors) == 2
    with database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases).where(cases.c.tenant == T)).scalar() == 1
    [m] = messages(database, T, case_id="case-1")
    assert m.payload == {"case": "case-1", "action": "report"}
    # … and its notification fails at delivery: the case is untouched, the message retried.
    deliver_due(database, {"notify": Recorder(fail_times=5)}, NOW, policy=FAST)
    with database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases).where(cases.c.tenant == T)).scalar() == 1
        assert conn.execute(select(outbox.c.status)).scalar() == PENDING
