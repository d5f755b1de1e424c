"""Decisions: a reviewer decides an item they hold (double review, escalation); a lead resolves an
escalated item or overrides a final decision. Decisions are append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from pantau.labels import LABEL_KEYS
from pantau.queue.audit import write_event
from pantau.queue.db import write_transaction
from pantau.queue.errors import ClaimLost, Forbidden, Invalid, NotFound, QueueError
from pantau.queue.models import (
    Action,
    Decision,
    DecisionKind,
    Item,
    Role,
    Status,
    UndoneDecision,
    User,
    utcnow,
)
from pantau.queue.schemas import DecideResult, DecisionIn, iso
from pantau.queue.users import require_active

_items = Item.__table__
_decisions = Decision.__table__
_users = User.__table__
_undone = UndoneDecision.__table__
# What a decision changes on the item, kept in its audit event so the decision can be undone.
_RESTORABLE = ("status", "review_count", "first_reviewer_id", "escalation_reason", "final_decision_id")
_LOCK_FOR_DECIDE = (
    select(
        _items.c.id,
        _items.c.status,
        _items.c.claimed_by,
        _items.c.model_version,
        _items.c.review_count,
        _items.c.required_reviews,
        _items.c.first_reviewer_id,
        _items.c.escalation_reason,
        _items.c.final_decision_id,
        _items.c.decided_at,
        # The reviewer's account is checked in the same round trip as the item is locked.
        select(_users.c.active).where(_users.c.id == bindparam("uid")).scalar_subquery().label("user_active"),
    )
    .where(_items.c.id == bindparam("item"))
    .with_for_update(of=_items)
)
_FIRST_REVIEW = (
    select(*(_decisions.c[k] for k in LABEL_KEYS))
    .where(
        _decisions.c.item_id == bindparam("item"),
        _decisions.c.kind == DecisionKind.REVIEW,
        _decisions.c.id != bindparam("decision"),
        _decisions.c.id.not_in(select(_undone.c.decision_id)),
    )
    .order_by(_decisions.c.id)
    .limit(1)
)
_INSERT_DECISION = insert(_decisions).returning(_decisions.c.id)
_UPDATE_ITEM = update(_items).where(_items.c.id == bindparam("item_key"))  # SET columns come from the params


def _insert_decision(
    conn: Connection,
    item_id: int,
    user_id: int,
    kind: DecisionKind,
    d: DecisionIn,
    model_version: str,
    now: datetime,
) -> int:
    row = {
        "item_id": item_id,
        "reviewer_id": user_id,
        "kind": kind,
        "action": d.action,
        "pasal_280": list(d.pasal_280),
        "hs_target": d.hs_target,
        "hs_category": d.hs_category,
        "hs_strength": d.hs_strength,
        "note": d.note,
        "model_version": model_version,
        "created_at": now,
        "labels_entered": True,
        **{k: d.labels[k] for k in LABEL_KEYS},
    }
    return conn.execute(_INSERT_DECISION, row).scalar_one()


def decide(
    engine: Engine, user_id: int, item_id: int, decision: DecisionIn, *, now: datetime | None = None
) -> DecideResult:
    """Record a reviewer's decision on an item they hold.

    Single-review items become decided. Double-review items go back to the queue for a second,
    independent reviewer; when both agree on all four labels the item is decided, otherwise it is
    escalated to a lead. Choosing the action ``escalate`` escalates at once.
    """
    d, now = decision, now or utcnow()
    with write_transaction(engine) as conn:
        item = conn.execute(_LOCK_FOR_DECIDE, {"item": item_id, "uid": user_id}).first()
        if item is None:
            require_active(conn, user_id)
            raise NotFound(f"item {item_id} does not exist")
        if not item.user_active:
            raise Forbidden(f"user {user_id} does not exist or is deactivated")
        if item.status != Status.CLAIMED or item.claimed_by != user_id:
            raise ClaimLost(
                f"item {item_id} tidak lagi Anda pegang (is not claimed by you, status {item.status}); "
                "claim it first"
            )
        decision_id = _insert_decision(
            conn, item_id, user_id, DecisionKind.REVIEW, d, item.model_version, now
        )
        count = item.review_count + 1
        reason: str | None = None
        values: dict[str, Any] = {
            "review_count": count,
            "claimed_by": None,
            "claimed_at": None,
            "lease_expires_at": None,
            "updated_at": now,
        }
        if d.action == Action.ESCALATE:
            status, reason = Status.ESCALATED, "reviewer"
        elif count < item.required_reviews:
            status = Status.PENDING
            values["first_reviewer_id"] = user_id
        elif item.required_reviews >= 2:
            first = conn.execute(_FIRST_REVIEW, {"item": item_id, "decision": decision_id}).first()
            agree = first is not None and all(getattr(first, k) == d.labels[k] for k in LABEL_KEYS)
            status, reason = (Status.DECIDED, None) if agree else (Status.ESCALATED, "disagreement")
        else:
            status = Status.DECIDED
        values["status"] = status
        values["escalation_reason"] = reason
        if status == Status.DECIDED:
            values["final_decision_id"] = decision_id
            values["decided_at"] = now
        conn.execute(_UPDATE_ITEM, {"item_key": item_id, **values})
        write_event(
            conn,
            user_id,
            item_id,
            "decide",
            {
                "decision_id": decision_id,
                "action": d.action,
                "labels": dict(d.labels),
                "status": status,
                "review": count,
                "before": before_state(item),
            },
            now,
        )
        if status == Status.ESCALATED:
            write_event(conn, user_id, item_id, "escalate", {"reason": reason}, now)
        return DecideResult(item_id=item_id, decision_id=decision_id, status=status, escalation_reason=reason)


def before_state(item: Any) -> dict[str, Any]:
    """The item columns a decision changes, as they were: what undo puts back."""
    return {**{k: getattr(item, k) for k in _RESTORABLE}, "decided_at": iso(item.decided_at)}


def _require_lead(conn: Connection, user_id: int) -> None:
    user = require_active(conn, user_id)
    if user.role not in (Role.LEAD, Role.ADMIN):
        raise Forbidden("only a lead or admin may do this")


def resolve(
    engine: Engine, lead_id: int, item_id: int, decision: DecisionIn, *, now: datetime | None = None
) -> DecideResult:
    """A lead settles an escalated item (a reviewer's escalation or a disagreement)."""
    return _lead_decision(engine, lead_id, item_id, decision, DecisionKind.RESOLVE, (Status.ESCALATED,), now)


def override(
    engine: Engine, lead_id: int, item_id: int, decision: DecisionIn, *, now: datetime | None = None
) -> DecideResult:
    """A lead replaces the final decision of a decided item; the earlier decisions stay in history."""
    return _lead_decision(engine, lead_id, item_id, decision, DecisionKind.OVERRIDE, (Status.DECIDED,), now)


def _lead_decision(
    engine: Engine,
    lead_id: int,
    item_id: int,
    decision: DecisionIn,
    kind: DecisionKind,
    allowed: tuple[str, ...],
    now: datetime | None,
) -> DecideResult:
    if decision.action == Action.ESCALATE:
        raise Invalid("a lead's decision is final: choose no_violation, warn or takedown")
    now = now or utcnow()
    with write_transaction(engine) as conn:
        _require_lead(conn, lead_id)
        return lead_decision_in(conn, lead_id, item_id, decision, kind, allowed, now)


def lead_decision_in(
    conn: Connection,
    lead_id: int,
    item_id: int,
    decision: DecisionIn,
    kind: DecisionKind,
    allowed: tuple[str, ...],
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> DecideResult:
    """A lead's final decision on one item inside the caller's write transaction (the caller checked
    the role and the action); ``detail`` is added to the audit event. Resolve, override and a campaign
    decision (:mod:`pantau.queue.campaigns_store`, one call per item) all record through here."""
    d = decision
    item = conn.execute(
        select(_items).where(_items.c.id == item_id).with_for_update(of=_items)
    ).first()
    if item is None:
        raise NotFound(f"item {item_id} does not exist")
    if item.status not in allowed:
        raise QueueError(f"item {item_id} is {item.status}; {kind} needs {' or '.join(allowed)}")
    if kind == DecisionKind.OVERRIDE and not (d.confirmed or d.note):
        raise Invalid(
            "mengganti keputusan perlu konfirmasi atau catatan "
            "(an override needs a confirmation or a note: confirmed=true)"
        )
    if kind == DecisionKind.RESOLVE and _was_reviewer(conn, item_id, lead_id):
        raise Forbidden(
            f"Anda salah satu pihak dalam sengketa item {item_id}; ketua lain atau admin yang "
            "menyelesaikannya (you reviewed this item: another lead or an admin resolves it)"
        )
    decision_id = _insert_decision(conn, item_id, lead_id, kind, d, item.model_version, now)
    conn.execute(
        update(Item)
        .where(Item.id == item_id)
        .values(
            status=Status.DECIDED,
            final_decision_id=decision_id,
            decided_at=now,
            updated_at=now,
            escalation_reason=None,
            claimed_by=None,
            claimed_at=None,
            lease_expires_at=None,
        )
    )
    write_event(
        conn,
        lead_id,
        item_id,
        kind,
        {
            "decision_id": decision_id,
            "previous_final": item.final_decision_id,
            "action": d.action,
            "labels": dict(d.labels),
            "before": before_state(item),
            **(detail or {}),
        },
        now,
    )
    return DecideResult(item_id=item_id, decision_id=decision_id, status=Status.DECIDED)


def _was_reviewer(conn: Connection, item_id: int, user_id: int) -> bool:
    """Whether ``user_id`` made one of the (not undone) reviews on the item: one side of its dispute."""
    mine = select(_decisions.c.id).where(
        _decisions.c.item_id == item_id,
        _decisions.c.reviewer_id == user_id,
        _decisions.c.kind == DecisionKind.REVIEW,
        _decisions.c.id.not_in(select(_undone.c.decision_id)),
    )
    return conn.execute(mine.limit(1)).first() is not None


def was_reviewer(engine: Engine, item_id: int, user_id: int) -> bool:
    """Whether the user reviewed this item (and so may not resolve its escalation)."""
    with engine.connect() as conn:
        return _was_reviewer(conn, item_id, user_id)


__all__ = ["before_state", "decide", "override", "resolve", "was_reviewer"]
