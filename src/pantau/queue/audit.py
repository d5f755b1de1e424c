"""The audit log's writes: every change to an item, and logins and user administration."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert

from pantau.queue.models import AuditEvent, utcnow

# Prebuilt: claims and decisions write one or many events per call on the hot path.
AUDIT_INSERT = insert(AuditEvent.__table__)


def write_event(
    conn: Connection,
    actor_id: int | None,
    item_id: int | None,
    event: str,
    detail: dict[str, Any],
    at: datetime,
) -> None:
    """Record one event inside the caller's transaction."""
    conn.execute(
        AUDIT_INSERT, {"at": at, "actor_id": actor_id, "item_id": item_id, "event": event, "detail": detail}
    )


def audit(
    engine: Engine, actor_id: int | None, event: str, detail: dict[str, Any], item_id: int | None = None
) -> None:
    """Record an event that is not an item change (logins, user administration)."""
    with engine.begin() as conn:
        write_event(conn, actor_id, item_id, event, detail, utcnow())


__all__ = ["AUDIT_INSERT", "audit", "write_event"]
