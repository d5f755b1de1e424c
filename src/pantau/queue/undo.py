"""Undo: a person takes back their last decision on an item while nobody else has acted on it.

Decisions are append-only, so undoing one does not delete it: a row in ``undone_decisions`` marks it,
the item gets back the state the decision changed (kept in the decision's audit event), and an
``undo`` event is written. A reviewer's undone review returns the item to them, claimed under a fresh
lease, to decide again; a lead's undone resolution or override puts the earlier state back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update

from pantau.queue.audit import write_event
from pantau.queue.db import write_transaction
from pantau.queue.errors import NotFound, QueueError
from pantau.queue.models import AuditEvent, Decision, Item, Status, UndoneDecision, utcnow
from pantau.queue.schemas import DecideResult, parse_datetime
from pantau.queue.users import require_active

UNDO_SECONDS = 300.0
_DECISION_EVENTS = ("decide", "resolve", "override")


def undo_last(
    engine: Engine,
    user_id: int,
    item_id: int,
    *,
    within_seconds: float = UNDO_SECONDS,
    lease_minutes: float = 15,
    now: datetime | None = None,
) -> DecideResult:
    """Take back ``user_id``'s decision on ``item_id``; refused once anyone else (or anything: a claim,
    an expiry, a rescore) has touched the item since, or after ``within_seconds``."""
    now = now or utcnow()
    with write_transaction(engine) as conn:
        require_active(conn, user_id)
        item = conn.execute(select(Item.id).where(Item.id == item_id).with_for_update()).first()
        if item is None:
            raise NotFound(f"item {item_id} does not exist")
        events = conn.execute(
            select(AuditEvent.event, AuditEvent.actor_id, AuditEvent.detail)
            .where(AuditEvent.item_id == item_id)
            .order_by(AuditEvent.id.desc())
            .limit(2)
        ).all()
        # A reviewer's escalation writes "decide" and then "escalate": the decision is the one before.
        if events and events[0].event == "escalate" and events[0].actor_id == user_id:
            events = events[1:]
        last = events[0] if events else None
        if last is None or last.event not in _DECISION_EVENTS or last.actor_id != user_id:
            raise QueueError(
                f"tidak ada yang bisa dibatalkan di item {item_id}: sudah ada tindakan lain sesudah "
                "keputusan Anda (nothing to undo: your decision is not the last thing that happened to it)"
            )
        detail: dict[str, Any] = last.detail or {}
        before = detail.get("before")
        decision = conn.execute(
            select(Decision.id, Decision.kind, Decision.created_at).where(
                Decision.id == detail.get("decision_id")
            )
        ).first()
        if decision is None or not isinstance(before, dict):
            raise QueueError(f"item {item_id}: this decision was recorded before undo existed")
        if (now - decision.created_at).total_seconds() > within_seconds:
            raise QueueError(
                f"batas waktu pembatalan ({within_seconds:.0f} detik) sudah lewat "
                f"(the {within_seconds:.0f} s undo window has passed)"
            )
        conn.execute(insert(UndoneDecision).values(decision_id=decision.id, undone_by=user_id, undone_at=now))
        values: dict[str, Any] = {
            "status": before["status"],
            "review_count": before["review_count"],
            "first_reviewer_id": before["first_reviewer_id"],
            "escalation_reason": before["escalation_reason"],
            "final_decision_id": before["final_decision_id"],
            "decided_at": parse_datetime(before.get("decided_at")),
            "updated_at": now,
            "claimed_by": None,
            "claimed_at": None,
            "lease_expires_at": None,
        }
        if before["status"] == Status.CLAIMED:  # a review: the item is the reviewer's again
            values.update(
                claimed_by=user_id,
                claimed_at=now,
                lease_expires_at=now + timedelta(minutes=lease_minutes),
            )
        conn.execute(update(Item).where(Item.id == item_id).values(**values))
        write_event(
            conn,
            user_id,
            item_id,
            "undo",
            {"decision_id": decision.id, "kind": decision.kind, "status": before["status"]},
            now,
        )
        return DecideResult(item_id=item_id, decision_id=decision.id, status=Status(before["status"]))


__all__ = ["UNDO_SECONDS", "undo_last"]
