"""API tokens: ``Authorization: Bearer <token>``, stored only as sha256 in the portal's ``api_tokens`` table.

A token belongs to one county (tenant) and carries scopes. A scope ``unit:<code>`` additionally confines
the token to that grid unit and everything below it (the table has no unit column; a scope keeps the
restriction next to the other permissions and needs no schema change).

Lookups are cached per :class:`TokenStore` for ``ttl`` seconds because intake is hot (thousands of
requests a second); a revoked token therefore stops working within ``ttl`` (default 2 s, 0 in tests).
"""
from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import select, update
from starlette.concurrency import run_in_threadpool

from wangge.core.store import Database
from wangge.core.store.tables import api_tokens

from .errors import ApiError, forbidden, unauthorized

SCOPES = {
    "events:write": "上报事件 (report events)",
    "cases:read": "查看案件 (read cases)",
    "cases:write": "办理案件 (act on cases)",
    "forms:write": "提交表单 (submit forms)",
    "indicators:read": "查看指标 (read indicators)",
}
UNIT_PREFIX = "unit:"
TOKEN_PREFIX = "wg_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token of one county, its scopes and (optionally) the unit it is confined to."""

    tenant: str
    token_id: str
    name: str
    scopes: frozenset[str]
    unit: str | None = None

    @property
    def actor(self) -> str:
        return f"api:{self.name}"

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise forbidden(f"令牌 {self.name} 没有 {scope} 权限 (token lacks scope {scope})")


def check_scopes(scopes: Iterable[str]) -> list[str]:
    """Reject unknown scopes (typos would silently grant nothing)."""
    out = []
    for s in scopes:
        if s not in SCOPES and not (s.startswith(UNIT_PREFIX) and len(s) > len(UNIT_PREFIX)):
            raise ValueError(f"未知权限 {s};可选 {', '.join(SCOPES)} 或 unit:<网格单元编码>")
        out.append(s)
    return out


def create_token(database: Database, tenant: str, name: str, scopes: Iterable[str]) -> tuple[str, str]:
    """Create a token; returns ``(token_id, token)``. The token itself is never stored."""
    scopes = check_scopes(scopes)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = str(uuid.uuid4())
    with database.engine.begin() as conn:
        conn.execute(api_tokens.insert().values(
            tenant=tenant, id=token_id, name=name, token_hash=hash_token(token), scopes=scopes,
            created_at=datetime.now(timezone.utc), revoked=False))
    return token_id, token


def revoke_token(database: Database, tenant: str, token_id: str) -> bool:
    with database.engine.begin() as conn:
        result = conn.execute(update(api_tokens).where(api_tokens.c.tenant == tenant, api_tokens.c.id == token_id)
                              .values(revoked=True))
    return result.rowcount > 0


def list_tokens(database: Database, tenant: str) -> list[dict]:
    with database.engine.connect() as conn:
        rows = conn.execute(select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.scopes, api_tokens.c.created_at,
                                   api_tokens.c.revoked).where(api_tokens.c.tenant == tenant)
                            .order_by(api_tokens.c.created_at)).mappings().all()
    return [dict(r) for r in rows]


TokenKey = tuple[str, str]   # (tenant, sha256 of the token)


@dataclass
class TokenStore:
    """Resolves bearer tokens of one deployment; an answer (a miss too) is served for at most ``ttl`` seconds
    after it was read, so a revoked token stops working within ``ttl``.

    Once an answer is half that old, one background read renews it while requests go on with it; requests
    for a token with no answer young enough wait for one read together. Why: the intake bench's sixteen
    connections all found the answer expired at once every two seconds, and each sent its own read through a
    worker thread (pool checkout, ping, query): those threads took the GIL from the event loop, and intake
    p99 on PostgreSQL went from 11–13 ms to 17–26 ms (bench/intake.py)."""

    database: Database
    ttl: float = 2.0
    clock: Callable[[], float] = time.monotonic
    _cache: dict[TokenKey, tuple[float, Principal | None, bool]] = field(default_factory=dict, repr=False)
    _reads: dict[TokenKey, asyncio.Future] = field(default_factory=dict, repr=False)

    async def resolve(self, tenant: str, token: str) -> tuple[Principal | None, bool]:
        """``(principal, revoked)`` of ``token`` in ``tenant``'s county."""
        key = (tenant, hash_token(token))
        entry = self._cache.get(key)
        if entry is not None:
            age = self.clock() - entry[0]
            if age < self.ttl:
                if age >= self.ttl / 2:
                    self._read(key)
                return entry[1], entry[2]
        return await asyncio.shield(self._read(key))

    def _read(self, key: TokenKey) -> asyncio.Future:
        """The read of ``key`` under way on this loop, else a new one."""
        future = self._reads.get(key)
        if future is None or future.get_loop() is not asyncio.get_running_loop():
            future = self._reads[key] = asyncio.ensure_future(run_in_threadpool(self.load, *key))
            future.add_done_callback(lambda done: self._read_done(key, done))
        return future

    def _read_done(self, key: TokenKey, done: asyncio.Future) -> None:
        if self._reads.get(key) is done:
            del self._reads[key]
        if not done.cancelled() and done.exception() is not None:
            self._cache.pop(key, None)   # the database is away: no answer is kept beyond its age

    def load(self, tenant: str, digest: str) -> tuple[Principal | None, bool]:
        """``(principal, revoked)`` of the token whose hash is ``digest``, from the database (blocking)."""
        read_at = self.clock()
        with self.database.engine.connect() as conn:
            row = conn.execute(select(api_tokens).where(api_tokens.c.tenant == tenant,
                                                        api_tokens.c.token_hash == digest)).mappings().first()
        principal, revoked = None, False
        if row is not None:
            revoked = bool(row["revoked"])
            scopes = frozenset(row["scopes"] or ())
            unit = next((s[len(UNIT_PREFIX):] for s in scopes if s.startswith(UNIT_PREFIX)), None)
            principal = Principal(tenant, row["id"], row["name"], scopes, unit)
        if self.ttl > 0:
            if len(self._cache) > 10_000:   # bounded: a flood of random tokens must not grow memory
                self._cache.clear()
            self._cache[(tenant, digest)] = (read_at, principal, revoked)
        return principal, revoked


def bearer(authorization: str | None) -> str:
    if not authorization:
        raise unauthorized("缺少 API 令牌:请在请求头中加入 Authorization: Bearer <令牌> (missing bearer token)")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("Authorization 请求头格式应为 Bearer <令牌> (expected a bearer token)")
    return token.strip()


def resolved(principal: Principal | None, revoked: bool) -> Principal:
    if principal is None:
        raise unauthorized("API 令牌无效,或不属于该县(区) (unknown token for this county)")
    if revoked:
        raise unauthorized(f"API 令牌 {principal.name} 已吊销 (token revoked)")
    return principal


def denied_unit(principal: Principal, unit: str) -> ApiError:
    return forbidden(f"令牌 {principal.name} 仅限网格单元 {principal.unit} 及其下级,不能访问 {unit}"
                     f" (token confined to unit {principal.unit})")
