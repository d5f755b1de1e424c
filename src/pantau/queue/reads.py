"""Read views of the queue: item pages, one item, its decisions, score history, audit log, counts."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pantau.labels import LABEL_KEYS
from pantau.queue.errors import Invalid, NotFound
from pantau.queue.models import (
    AuditEvent,
    Decision,
    Item,
    Prediction,
    Status,
    UndoneDecision,
    User,
    utcnow,
)
from pantau.queue.schemas import DecisionOut, ItemFilter, ItemOut, iso


class Sort(StrEnum):
    """Orders the item list can be shown in."""

    PRIORITY = "priority"
    RISK = "risk"
    NEWEST = "newest"
    OLDEST = "oldest"
    ENQUEUED = "enqueued"


_ORDER = {
    Sort.PRIORITY: (Item.priority_key.desc(), Item.id),
    Sort.RISK: (Item.risk.desc(), Item.id),
    Sort.NEWEST: (Item.created_at.desc(), Item.id),
    Sort.OLDEST: (Item.created_at.asc(), Item.id),
    Sort.ENQUEUED: (Item.enqueued_at.asc(), Item.id),
}
SORTS: tuple[str, ...] = tuple(Sort)

# Row ids are INTEGER columns: 32-bit signed on PostgreSQL (SQLite's are 64-bit, but the schema is one).
# An id outside 1..ID_MAX names no row, and is answered as such before it reaches the database
# (PostgreSQL refuses it with an error; SQLite's driver overflows past 2^63).
ID_MAX = 2**31 - 1
# No page can start past the last row there could be.
OFFSET_MAX = ID_MAX


def valid_id(item_id: int) -> bool:
    """Whether ``item_id`` is one a row could have (1..ID_MAX)."""
    return 1 <= item_id <= ID_MAX


def list_items(
    engine: Engine,
    *,
    status: str | Sequence[str] | None = Status.PENDING,
    filters: ItemFilter | None = None,
    sort: str = "priority",
    claimed_by: int | None = None,
    limit: int = 50,
    offset: int = 0,
    aging_per_hour: float = 0.01,
) -> tuple[list[ItemOut], int]:
    """A page of items and the total count matching the filters."""
    if sort not in _ORDER:
        raise Invalid(f"sort must be one of {', '.join(SORTS)}")
    if not 1 <= limit <= 1000 or not 0 <= offset <= OFFSET_MAX:
        raise Invalid(f"limit must be 1..1000 and offset 0..{OFFSET_MAX}")
    where: list[Any] = list(filters.clauses() if filters else [])
    if status is not None:
        statuses = [status] if isinstance(status, str) else list(status)
        where.append(Item.status.in_(statuses))
    if claimed_by is not None:
        where.append(Item.claimed_by == claimed_by)
    now = utcnow()
    with Session(engine) as session:
        total = session.execute(select(func.count()).select_from(Item).where(*where)).scalar_one()
        items = (
            session.execute(
                select(Item).where(*where).order_by(*_ORDER[Sort(sort)]).limit(limit).offset(offset)
            )
            .scalars()
            .all()
        )
        return [ItemOut.from_row(i, aging_per_hour=aging_per_hour, now=now) for i in items], total


def get_item(engine: Engine, item_id: int, *, aging_per_hour: float = 0.01) -> ItemOut:
    """One item, or :class:`NotFound`."""
    if not valid_id(item_id):
        raise NotFound(f"item {item_id} tidak ada (item {item_id} does not exist)")
    with Session(engine) as session:
        item = session.get(Item, item_id)
        if item is None:
            raise NotFound(f"item {item_id} tidak ada (item {item_id} does not exist)")
        return ItemOut.from_row(item, aging_per_hour=aging_per_hour, now=utcnow())


def item_decisions(engine: Engine, item_id: int) -> list[DecisionOut]:
    """Every decision on an item, oldest first, with reviewer names."""
    if not valid_id(item_id):
        return []
    with Session(engine) as session:
        rows = session.execute(
            select(Decision, User.username, UndoneDecision.decision_id)
            .join(User, User.id == Decision.reviewer_id)
            .outerjoin(UndoneDecision, UndoneDecision.decision_id == Decision.id)
            .where(Decision.item_id == item_id)
            .order_by(Decision.id)
        ).all()
        return [DecisionOut.from_row(d, reviewer=name, undone=u is not None) for d, name, u in rows]


def score_history(engine: Engine, post_id: str) -> list[dict[str, Any]]:
    """Every model version's scores for one post, oldest first (what the drift statistics are made of)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Prediction)
            .where(Prediction.post_id == post_id)
            .order_by(Prediction.scored_at, Prediction.id)
        ).all()
    return [
        {
            "model_version": r.model_version,
            "risk": r.risk,
            "probabilities": {k: getattr(r, f"p_{k}") for k in LABEL_KEYS},
            "scored_at": r.scored_at,
        }
        for r in rows
    ]


def audit_log(engine: Engine, *, item_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Latest audit events (newest first), optionally for one item."""
    if item_id is not None and not valid_id(item_id):
        return []  # no item can have that id, so none has events
    query = (
        select(
            AuditEvent.id,
            AuditEvent.at,
            AuditEvent.item_id,
            AuditEvent.event,
            AuditEvent.detail,
            User.username,
        )
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    if item_id is not None:
        query = query.where(AuditEvent.item_id == item_id)
    with engine.connect() as conn:
        return [
            {
                "id": r.id,
                "at": iso(r.at),
                "actor": r.username,
                "item_id": r.item_id,
                "event": r.event,
                "detail": r.detail,
            }
            for r in conn.execute(query)
        ]


def status_counts(engine: Engine) -> dict[str, int]:
    """Number of items in each status (all statuses present, zeros included)."""
    with engine.connect() as conn:
        rows = conn.execute(select(Item.status, func.count()).group_by(Item.status)).all()
    counts = {str(s): 0 for s in Status}
    counts.update({s: n for s, n in rows})
    return counts


def claimed_by_user(engine: Engine, user_id: int) -> list[int]:
    """Ids of items the user currently holds."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(Item.id)
                .where(Item.status == Status.CLAIMED, Item.claimed_by == user_id)
                .order_by(Item.priority_key.desc())
            ).scalars()
        )


__all__ = [
    "ID_MAX",
    "OFFSET_MAX",
    "SORTS",
    "Sort",
    "audit_log",
    "claimed_by_user",
    "get_item",
    "item_decisions",
    "list_items",
    "score_history",
    "status_counts",
    "valid_id",
]
