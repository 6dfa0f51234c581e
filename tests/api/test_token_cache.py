"""The token cache (web/api/auth.py, TokenStore): one database read however many requests wait for a token,
renewal in the background once an answer is half its age, and never an answer older than ``ttl`` — so a
revoked token stops working within ``ttl``. A hand-driven clock decides ages; the database is real."""
from __future__ import annotations

import asyncio

from sqlalchemy import event

from wangge.web.api.auth import TokenStore, create_token, revoke_token


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _counting(database):  # type: ignore[no-untyped-def]
    """A list that grows by one for each read of the api_tokens table."""
    reads: list[str] = []

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "api_tokens" in statement and statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    event.listen(database.engine, "before_cursor_execute", seen)
    return reads


def test_concurrent_requests_for_an_unread_token_share_one_read(database):  # type: ignore[no-untyped-def]
    _, token = create_token(database, "alpha", "hotline", ["events:write"])
    store, reads = TokenStore(database, 2.0, Clock()), _counting(database)

    async def many():  # type: ignore[no-untyped-def]
        return await asyncio.gather(*(store.resolve("alpha", token) for _ in range(16)))

    answers = asyncio.run(many())
    assert len(reads) == 1
    assert {(p.name, revoked) for p, revoked in answers} == {("hotline", False)}


def test_an_answer_half_its_age_is_served_while_one_read_renews_it(database):  # type: ignore[no-untyped-def]
    token_id, token = create_token(database, "alpha", "hotline", ["events:write"])
    clock = Clock()
    store, reads = TokenStore(database, 2.0, clock), _counting(database)

    async def scenario():  # type: ignore[no-untyped-def]
        first = await store.resolve("alpha", token)
        clock.now += 0.5
        await store.resolve("alpha", token)             # young: no read
        assert len(reads) == 1
        revoke_token(database, "alpha", token_id)
        clock.now += 0.7                                  # 1.2 s old: served as is, renewed behind it
        served = await asyncio.gather(*(store.resolve("alpha", token) for _ in range(8)))
        for _ in range(200):                              # the renewal's read runs in a worker thread
            renewed = await store.resolve("alpha", token)
            if renewed[1]:
                break
            await asyncio.sleep(0.01)
        return first, served, renewed

    first, served, renewed = asyncio.run(scenario())
    assert first[1] is False and all(revoked is False for _, revoked in served)
    assert len(reads) == 2                                # one renewal for the eight requests and the polls
    assert renewed[1] is True                             # the revocation is seen from then on


def test_no_answer_older_than_the_ttl_is_served(database):  # type: ignore[no-untyped-def]
    token_id, token = create_token(database, "alpha", "hotline", ["events:write"])
    clock = Clock()
    store = TokenStore(database, 2.0, clock)

    async def scenario():  # type: ignore[no-untyped-def]
        before = await store.resolve("alpha", token)
        revoke_token(database, "alpha", token_id)
        clock.now += 2.0                                  # an idle token: its answer has expired
        return before, await store.resolve("alpha", token)

    before, after = asyncio.run(scenario())
    assert before[1] is False and after[1] is True


def test_unknown_tokens_are_cached_as_misses_and_a_failed_read_keeps_nothing(database):  # type: ignore[no-untyped-def]
    clock = Clock()
    store, reads = TokenStore(database, 2.0, clock), _counting(database)

    async def unknown():  # type: ignore[no-untyped-def]
        return [await store.resolve("alpha", "wg_no-such-token") for _ in range(3)]

    assert asyncio.run(unknown()) == [(None, False)] * 3
    assert len(reads) == 1

    def failing(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "api_tokens" in statement:
            raise RuntimeError("database away")

    event.listen(database.engine, "before_cursor_execute", failing)
    clock.now += 1.5                                      # renewal due: it fails in the background

    async def renew_fails():  # type: ignore[no-untyped-def]
        served = await store.resolve("alpha", "wg_no-such-token")
        for _ in range(200):                              # until the failed renewal has dropped the answer
            try:
                await store.resolve("alpha", "wg_no-such-token")
            except Exception:  # noqa: BLE001 — this request read the database itself and met the error
                return served
            await asyncio.sleep(0.01)
        raise AssertionError("the expired answer was still served")

    try:
        assert asyncio.run(renew_fails()) == (None, False)
    finally:
        event.remove(database.engine, "before_cursor_execute", failing)
    assert asyncio.run(store.resolve("alpha", "wg_no-such-token")) == (None, False)
