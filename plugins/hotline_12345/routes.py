"""HTTP intake for the portal to mount: ``POST /12345/orders`` takes one work order (JSON).

Answers: 201 with the new case, 200 with the existing case on a redelivery (the platform may retry
freely), 422 with ``errors`` (field → Chinese message) for an order that cannot be taken in, 401 when a
signature is required and missing or wrong.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .intake import receive_order
from .order import OrderError


def hotline_routes(db: Any, tenant: str | Callable[[Any], str], pack: Any | Callable[[Any], Any], *,
                   path: str = "/12345/orders", verify_secret: str | None = None, tolerance: float = 300,
                   router: Any = None, observe: Any = None) -> list[Any]:
    """Starlette routes. ``tenant`` and ``pack`` may be functions of the request (multi-county portals);
    with ``verify_secret`` the platform must sign its requests as our webhooks do (X-Wangge-Signature)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from wangge.plugins.webhook import verify

    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        if verify_secret is not None and not verify(verify_secret, request.headers, body, tolerance):
            return JSONResponse({"error": "签名无效或已过期 (bad or stale signature)"}, status_code=401)
        try:
            order = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return JSONResponse({"errors": {"工单": f"不是合法的 UTF-8 JSON: {exc}"}}, status_code=422)
        the_tenant = tenant(request) if callable(tenant) else tenant
        the_pack = pack(request) if callable(pack) else pack
        try:
            # The database work is blocking; keep it off the event loop.
            result = await run_in_threadpool(receive_order, db, the_tenant, the_pack, order, router=router,
                                             observe=observe)
        except OrderError as exc:
            return JSONResponse({"errors": exc.errors}, status_code=422)
        return JSONResponse({"case_id": result.case_id, "created": result.created, "工单编号": result.order_no},
                            status_code=201 if result.created else 200)

    return [Route(path, receive, methods=["POST"], name="hotline_12345_orders")]
