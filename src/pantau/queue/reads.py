"""Read views of the queue: item pages, one item, its decisions, score history, audit log, counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from pantau.labels import LABEL_KEYS
from pantau.queue.errors import Invalid, NotFound
from pantau.queue.models import (
    AuditEvent,
    Decision,
    DecisionKind,
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
    DECIDED = "decided"  # most recently decided first


_ORDER = {
    Sort.PRIORITY: (Item.priority_key.desc(), Item.id),
    Sort.RISK: (Item.risk.desc(), Item.id),
    Sort.NEWEST: (Item.created_at.desc(), Item.id),
    Sort.OLDEST: (Item.created_at.asc(), Item.id),
    Sort.ENQUEUED: (Item.enqueued_at.asc(), Item.id),
    Sort.DECIDED: (Item.decided_at.desc(), Item.id.desc()),
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
    not_reviewed_by: int | None = None,
    limit: int = 50,
    offset: int = 0,
    aging_per_hour: float = 0.01,
) -> tuple[list[ItemOut], int]:
    """A page of items and the total count matching the filters; ``not_reviewed_by`` leaves out the
    double-review items that user already reviewed (they wait for someone else)."""
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
    if not_reviewed_by is not None:
        where.append(or_(Item.first_reviewer_id.is_(None), Item.first_reviewer_id != not_reviewed_by))
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


SEARCH_MAX_CHARS = 200


def like_pattern(query: str) -> str:
    """``%query%`` for LIKE with ``\\`` as the escape character: ``%``, ``_`` and ``\\`` in the query
    match themselves, not any text."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_items(
    engine: Engine, query: str, *, limit: int = 50, offset: int = 0, aging_per_hour: float = 0.01
) -> tuple[list[ItemOut], int]:
    """Items of any status whose post id, account or text contains ``query`` (case-insensitive; LIKE
    wildcards in the query are literal), an exact post id first, then the newest enqueued; with the total."""
    query = query.strip()
    if not query or len(query) > SEARCH_MAX_CHARS:
        raise Invalid(
            f"pencarian harus 1–{SEARCH_MAX_CHARS} karakter (the search must be 1–{SEARCH_MAX_CHARS} characters)"
        )
    if not 1 <= limit <= 1000 or not 0 <= offset <= OFFSET_MAX:
        raise Invalid(f"limit must be 1..1000 and offset 0..{OFFSET_MAX}")
    pattern = like_pattern(query.lower())
    where = or_(
        Item.post_id == query,
        *(func.lower(col).like(pattern, escape="\\") for col in (Item.post_id, Item.author, Item.text)),
    )
    exact_first = (Item.post_id == query).desc()
    now = utcnow()
    with Session(engine) as session:
        total = session.execute(select(func.count()).select_from(Item).where(where)).scalar_one()
        rows = (
            session.execute(
                select(Item)
                .where(where)
                .order_by(exact_first, Item.enqueued_at.desc(), Item.id.desc())
                .limit(limit)
                .offset(offset)
            )
            .scalars()
            .all()
        )
        return [ItemOut.from_row(i, aging_per_hour=aging_per_hour, now=now) for i in rows], total


def my_decisions(
    engine: Engine, user_id: int, *, since: datetime | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """The user's own decisions (reviews, resolutions, overrides), newest first, optionally only from
    ``since`` on (naive UTC); each with its item's post id, text and status; with the total."""
    if not 1 <= limit <= 1000 or not 0 <= offset <= OFFSET_MAX:
        raise Invalid(f"limit must be 1..1000 and offset 0..{OFFSET_MAX}")
    where = [Decision.reviewer_id == user_id]
    if since is not None:
        where.append(Decision.created_at >= since)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(Decision).where(*where)).scalar_one()
        rows = conn.execute(
            select(
                Decision.id,
                Decision.item_id,
                Decision.kind,
                Decision.action,
                Decision.created_at,
                Item.post_id,
                Item.text,
                Item.status,
                UndoneDecision.decision_id.label("undone"),
            )
            .join(Item, Item.id == Decision.item_id)
            .outerjoin(UndoneDecision, UndoneDecision.decision_id == Decision.id)
            .where(*where)
            .order_by(Decision.created_at.desc(), Decision.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    return [
        {
            "id": r.id,
            "item_id": r.item_id,
            "kind": r.kind,
            "action": r.action,
            "at": r.created_at,
            "post_id": r.post_id,
            "text": r.text,
            "status": r.status,
            "undone": r.undone is not None,
        }
        for r in rows
    ], total


def reviewed_by(engine: Engine, item_id: int, user_id: int) -> bool:
    """Whether the user's review of the item stands (not undone): they may not review it again."""
    if not valid_id(item_id):
        return False
    with engine.connect() as conn:
        return (
            conn.execute(
                select(Decision.id)
                .outerjoin(UndoneDecision, UndoneDecision.decision_id == Decision.id)
                .where(
                    Decision.item_id == item_id,
                    Decision.reviewer_id == user_id,
                    Decision.kind == DecisionKind.REVIEW,
                    UndoneDecision.decision_id.is_(None),
                )
                .limit(1)
            ).first()
            is not None
        )


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
    "like_pattern",
    "list_items",
    "my_decisions",
    "reviewed_by",
    "score_history",
    "search_items",
    "status_counts",
    "valid_id",
]
