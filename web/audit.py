"""The audit log: who did what outside a case's own history (logins, users, pack publications)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, select
from wangge.core.store import Database
from wangge.core.store.tables import audit_log


def record(conn: Connection, tenant: str, actor: str, action: str, detail: dict[str, Any] | None = None) -> None:
    """Write one audit row on ``conn``, so it commits or rolls back with the change it describes."""
    conn.execute(audit_log.insert().values(tenant=tenant, id=str(uuid.uuid4()), at=datetime.now(timezone.utc),
                                           actor=actor, action=action, detail=detail or {}))


def recent(db: Database, tenant: str, limit: int = 50) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(select(audit_log).where(audit_log.c.tenant == tenant)
                                 .order_by(audit_log.c.at.desc()).limit(limit)).all())
