"""Taking a 12345 work order in: check → find an existing case by 工单编号 → map → route → open a case.

Idempotent: the platform redelivers an order whenever it did not see our answer (a timeout, a restart),
so a 工单编号 seen before returns the case it created and creates nothing. The cases service enforces the
same through the unique (tenant, external_id) index, which also settles two deliveries racing.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from wangge.core.events import EventError, parse_event
from wangge.core.workcal import as_shanghai
from wangge.core.workflow import Actor
from wangge.core.store.tables import cases

from .mapping import external_id, order_to_event
from .order import OrderError, WorkOrder, parse_order
from .settings import NAME, HotlineSettings, parse_settings

ACTOR = Actor("hotline_12345", "hotline")  # who opens 12345 cases (the platform, not a person)


@dataclass(frozen=True)
class Intake:
    case_id: str
    created: bool          # False: a redelivery of an order already taken in
    order_no: str
    external_id: str


def settings_of(pack: Any) -> HotlineSettings:
    """The adapter's settings in ``pack`` (defaults when the pack does not configure it)."""
    entry = (getattr(pack, "plugins", None) or {}).get(NAME)
    return parse_settings(entry.settings if entry is not None else {}, pack)


def find_case(db: Any, tenant: str, order_no: str) -> str | None:
    with db.engine.connect() as conn:
        return conn.execute(select(cases.c.id).where(cases.c.tenant == tenant,
                                                     cases.c.external_id == external_id(order_no))).scalar()


def receive_order(db: Any, tenant: str, pack: Any, raw: Mapping[str, Any] | WorkOrder, *,
                  settings: HotlineSettings | Mapping[str, Any] | None = None, router: Any = None,
                  actor: Any = None, now: datetime | None = None, observe: Any = None) -> Intake:
    """Take one work order in; OrderError (per-field Chinese messages) when it cannot be accepted.

    ``router`` defaults to ``Router.from_pack(pack)``; ``actor`` to the 12345 platform itself.
    """
    from wangge.core.cases import open_case          # imported here: the cases service sits beside plugins

    order = raw if isinstance(raw, WorkOrder) else parse_order(raw)
    existing = find_case(db, tenant, order.order_no)
    if existing is not None:
        return Intake(existing, False, order.order_no, external_id(order.order_no))
    if settings is None:
        settings = settings_of(pack)
    elif not isinstance(settings, HotlineSettings):
        settings = parse_settings(settings, pack)
    try:
        event = parse_event(order_to_event(order, pack, settings), pack)
    except EventError as exc:
        raise OrderError({f"事件.{k}": v for k, v in exc.errors.items()}) from None
    if router is None:
        from wangge.core.routing import Router

        router = Router.from_pack(pack)
    now = as_shanghai(now or datetime.now(timezone.utc))
    case = open_case(db, tenant, pack, event, router.decide(event), actor or ACTOR, now=now, observe=observe)
    # open_case is idempotent by external_id too: when another delivery of the same order won the race it
    # returns that case, which was entered at another instant than ours.
    created = case.vars.get("entered_at") == now.isoformat()
    return Intake(case.id, created, order.order_no, external_id(order.order_no))
