"""The review queue: enqueue predictions, claim, decide, escalate, override — every change audited.

All functions take an :class:`~sqlalchemy.Engine` (see :func:`pantau.queue.db.make_engine`) and plain
arguments. Writes that pick items run in a transaction that takes the write lock up front on SQLite
(``BEGIN IMMEDIATE``) and uses ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so no item is ever
held by two reviewers.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pantau.labels import HS_CATEGORIES, HS_STRENGTHS, HS_TARGETS, LABEL_KEYS, PASAL_280_BY_KEY
from pantau.queue.db import write_transaction
from pantau.queue.models import (
    ACTIONS,
    CLAIMED,
    DECIDED,
    ESCALATED,
    PENDING,
    AuditEvent,
    Decision,
    Item,
    Prediction,
    User,
)

# Core tables and prebuilt statements for the hot path (claim, decide): on a busy CPU, building
# SQLAlchemy statements per call cost more than running them.
_items = Item.__table__
_decisions = Decision.__table__
_users = User.__table__
_ACTIVE_USER = select(_users.c.id, _users.c.role, _users.c.active).where(_users.c.id == bindparam("uid"))
_EXPIRE = (
    update(_items)
    .where(_items.c.status == CLAIMED, _items.c.lease_expires_at < bindparam("now"))
    .values(
        status=PENDING, claimed_by=None, claimed_at=None, lease_expires_at=None, updated_at=bindparam("now")
    )
    .returning(_items.c.id)
)
_AUDIT = insert(AuditEvent.__table__)
_CLAIM_NEXT = (
    select(_items.c.id)
    .where(
        _items.c.status == PENDING,
        or_(_items.c.first_reviewer_id.is_(None), _items.c.first_reviewer_id != bindparam("uid")),
    )
    .order_by(_items.c.priority_key.desc(), _items.c.id)
    .limit(bindparam("n"))
    .with_for_update(skip_locked=True)
)
_USER_ACTIVE = (
    select(_users.c.id).where(_users.c.id == bindparam("uid"), _users.c.active.is_(True)).exists()
)


# What taking an item for a reviewer writes (claim and claim_item alike).
_TAKE_VALUES = {
    "status": CLAIMED,
    "claimed_by": bindparam("uid"),
    "claimed_at": bindparam("now"),
    "lease_expires_at": bindparam("expires"),
    "updated_at": bindparam("now"),
}


def _claim_statement(pick: Any) -> Any:
    """One UPDATE … WHERE id IN (pick) RETURNING: choosing and taking items is a single round trip.

    ``pick`` selects the candidate ids (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; under SQLite's
    ``BEGIN IMMEDIATE`` nobody else can write meanwhile), so the outer WHERE does not test the status
    again: with that test SQLite's planner walked every pending item through the status index instead of
    looking the picked ids up by key (20 ms per claim at 100,000 items instead of well under one).
    """
    return (
        update(_items)
        .where(_items.c.id.in_(pick.correlate(None).scalar_subquery()), _USER_ACTIVE)
        .values(**_TAKE_VALUES)
        .returning(_items.c.id, _items.c.priority_key)
    )


_CLAIM = _claim_statement(_CLAIM_NEXT)
_TAKE = (
    update(_items)
    .where(_items.c.id.in_(bindparam("ids", expanding=True)), _items.c.status == PENDING)
    .values(**_TAKE_VALUES)
)
_LOCK_FOR_DECIDE = (
    select(
        _items.c.id,
        _items.c.status,
        _items.c.claimed_by,
        _items.c.model_version,
        _items.c.review_count,
        _items.c.required_reviews,
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
        _decisions.c.kind == "review",
        _decisions.c.id != bindparam("decision"),
    )
    .order_by(_decisions.c.id)
    .limit(1)
)
_INSERT_DECISION = insert(_decisions).returning(_decisions.c.id)
_UPDATE_ITEM = update(_items).where(_items.c.id == bindparam("item_key"))  # SET columns come from the params

# Priority ages from a fixed origin so the key stays a small, exact float.
_AGING_ORIGIN = datetime(2024, 1, 1)
MAX_NOTE_CHARS = 5000


class QueueError(Exception):
    """An operation is not allowed in the item's current state (message says why)."""


class NotFound(QueueError):
    """The item or user does not exist."""


class Forbidden(QueueError):
    """The user's role does not allow this operation."""


def utcnow() -> datetime:
    """Naive UTC: both databases store timestamps without zone, always in UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def priority_key(risk: float, enqueued_at: datetime, aging_per_hour: float) -> float:
    """Sort key equivalent to ``risk + aging_per_hour * age_in_hours`` at any common 'now'."""
    hours = (enqueued_at - _AGING_ORIGIN).total_seconds() / 3600.0
    return risk - aging_per_hour * hours


def effective_priority(risk: float, enqueued_at: datetime, aging_per_hour: float, now: datetime) -> float:
    """The priority shown to people: risk plus a bonus that grows while the item waits."""
    return risk + aging_per_hour * max(0.0, (now - enqueued_at).total_seconds() / 3600.0)


# --------------------------------------------------------------------------------------------- enqueue


@dataclass(frozen=True)
class EnqueueResult:
    """Counts of one enqueue call; ``rejected`` holds (row id or #index, reason) for invalid rows."""

    inserted: int
    updated: int
    skipped: int
    rejected: tuple[tuple[str, str], ...] = ()

    @property
    def enqueued(self) -> int:
        """Items that are now in the queue with this call's scores (inserted + updated)."""
        return self.inserted + self.updated


@dataclass
class _Row:
    post_id: str
    text: str
    source: str | None
    author: str | None
    url: str | None
    created_at: datetime | None
    model_name: str | None
    probabilities: dict[str, float]
    flags: dict[str, bool]
    thresholds: dict[str, float] | None
    spans: list[dict[str, Any]]
    risk: float


def _opt_str(value: Any, name: str, limit: int | None = 255) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if not isinstance(value, str):
        value = str(value)
    if limit is not None and len(value) > limit:
        raise ValueError(f"{name} longer than {limit} characters")
    return value or None


def parse_datetime(value: Any) -> datetime | None:
    """None, a datetime/date, a pandas Timestamp or an ISO-8601 string → naive UTC datetime."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp (NaT has isnull semantics)
        if str(value) == "NaT":
            return None
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        dt = datetime.fromisoformat(text)  # 3.11 reads a trailing "Z"
    else:
        raise ValueError(f"not a date/time: {value!r}")  # noqa: TRY004
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def _unit_float(value: Any, name: str) -> float:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    out = float(value)
    if not (0.0 <= out <= 1.0):  # also rejects NaN
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return out


def _validate_row(row: Mapping[str, Any], model_version: str) -> _Row:
    post_id = _opt_str(row.get("id"), "id")
    if not post_id:
        raise ValueError("missing id")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("missing or empty text")
    row_version = _opt_str(row.get("model_version"), "model_version")
    if row_version is not None and row_version != model_version:
        raise ValueError(f"row model_version {row_version!r} differs from {model_version!r}")
    probs_in = row.get("probabilities")
    if not isinstance(probs_in, Mapping):
        raise ValueError("probabilities must be a mapping label -> probability")  # noqa: TRY004
    missing = [k for k in LABEL_KEYS if k not in probs_in]
    if missing:
        raise ValueError(f"probabilities lack label(s) {', '.join(missing)}")
    probabilities = {k: _unit_float(probs_in[k], f"probabilities[{k}]") for k in LABEL_KEYS}
    flags_in = row.get("flags")
    if not isinstance(flags_in, Mapping) or any(k not in flags_in for k in LABEL_KEYS):
        raise ValueError(f"flags must map every label ({', '.join(LABEL_KEYS)}) to true/false")
    flags = {k: bool(flags_in[k]) for k in LABEL_KEYS}
    thresholds_in = row.get("thresholds")
    thresholds = None
    if isinstance(thresholds_in, Mapping):
        thresholds = {
            k: _unit_float(thresholds_in[k], f"thresholds[{k}]") for k in LABEL_KEYS if k in thresholds_in
        }
    risk = _unit_float(row.get("risk"), "risk")
    spans: list[dict[str, Any]] = []
    for span in row.get("spans") or []:
        if not isinstance(span, Mapping):
            raise ValueError("each span must be a mapping with start, end, term, category")  # noqa: TRY004
        start, end = span.get("start"), span.get("end")
        if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
            raise ValueError(f"span start/end must be integers, got {start!r}, {end!r}")  # noqa: TRY004
        if not (0 <= start < end <= len(text)):
            raise ValueError(f"span {start}:{end} outside the text (length {len(text)})")
        spans.append(
            {
                "start": start,
                "end": end,
                "term": str(span.get("term") or text[start:end]),
                "category": str(span.get("category") or ""),
            }
        )
    try:
        created_at = parse_datetime(row.get("created_at"))
    except ValueError as exc:
        raise ValueError(f"created_at: {exc}") from None
    return _Row(
        post_id=post_id,
        text=text,
        source=_opt_str(row.get("source"), "source"),
        author=_opt_str(row.get("author"), "author"),
        url=_opt_str(row.get("url"), "url", limit=4000),
        created_at=created_at,
        model_name=_opt_str(row.get("model_name"), "model_name"),
        probabilities=probabilities,
        flags=flags,
        thresholds=thresholds,
        spans=spans,
        risk=risk,
    )


def _chunks(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    chunk: list[Mapping[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert(conn: Connection, table: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the connection's dialect (races between two enqueuers)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return insert(table)


def _bulk_insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows, skipping ones that already exist (a concurrent enqueuer got there first)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy_insert(conn, table, rows)
    else:
        conn.execute(_insert(conn, table), rows)  # executemany: the sqlite3 module loops in C


def _copy_insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: COPY into a session-local staging table, then INSERT … SELECT … ON CONFLICT DO
    NOTHING. psycopg's executemany sends one statement per row; COPY streams them."""
    from psycopg.types.json import Jsonb

    columns = list(rows[0])
    names = ", ".join(columns)
    stage = f"pantau_stage_{table.name}"
    with conn.connection.dbapi_connection.cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS "
            f"AS SELECT {names} FROM {table.name} WITH NO DATA"
        )
        with cur.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [Jsonb(v) if isinstance(v, (dict, list)) else v for v in (row[c] for c in columns)]
                )
        cur.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {stage} ON CONFLICT DO NOTHING")
        cur.execute(f"DELETE FROM {stage}")


def enqueue(
    engine: Engine,
    rows: Iterable[Mapping[str, Any]],
    *,
    model_version: str,
    risk_threshold: float,
    double_review_risk: float = 0.85,
    aging_per_hour: float = 0.01,
    batch_size: int = 2000,
    now: datetime | None = None,
) -> EnqueueResult:
    """Put predictions with ``risk >= risk_threshold`` in the queue.

    Idempotent per (post id, model version). A model version not seen before for a post updates the
    item's scores only while it is pending and unclaimed; claimed, decided and escalated items (and
    their decisions) are never touched. Items with ``risk >= double_review_risk`` need two reviewers.
    """
    if not model_version or not isinstance(model_version, str):
        raise ValueError("model_version must be a non-empty string")
    if not 0.0 <= risk_threshold <= 1.0:
        raise ValueError(f"risk_threshold must be in [0, 1], got {risk_threshold}")
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    inserted = updated = skipped = 0
    rejected: list[tuple[str, str]] = []
    index = 0
    for chunk in _chunks(rows, batch_size):
        valid: dict[str, _Row] = {}
        for row in chunk:
            index += 1
            try:
                r = _validate_row(row, model_version)
            except (ValueError, TypeError) as exc:
                ident = row.get("id") if isinstance(row, Mapping) else None
                rejected.append((str(ident) if ident not in (None, "") else f"#{index}", str(exc)))
                continue
            if r.risk < risk_threshold or r.post_id in valid:
                skipped += 1
                continue
            valid[r.post_id] = r
        if valid:
            i, u, s = _enqueue_batch(
                engine, valid, model_version, double_review_risk, aging_per_hour, now or utcnow()
            )
            inserted, updated, skipped = inserted + i, updated + u, skipped + s
    if inserted or updated or rejected:
        with engine.begin() as conn:
            _audit(
                conn,
                None,
                None,
                "enqueue",
                {
                    "model_version": model_version,
                    "inserted": inserted,
                    "updated": updated,
                    "skipped": skipped,
                    "rejected": len(rejected),
                },
                now or utcnow(),
            )
    return EnqueueResult(inserted, updated, skipped, tuple(rejected))


def _enqueue_batch(
    engine: Engine,
    rows: dict[str, _Row],
    model_version: str,
    double_review_risk: float,
    aging_per_hour: float,
    now: datetime,
) -> tuple[int, int, int]:
    ids = list(rows)
    with write_transaction(engine) as conn:
        seen = set(
            conn.execute(
                select(Prediction.post_id).where(
                    Prediction.model_version == model_version, Prediction.post_id.in_(ids)
                )
            ).scalars()
        )
        fresh = [rows[i] for i in ids if i not in seen]
        skipped = len(ids) - len(fresh)
        if not fresh:
            return 0, 0, skipped
        existing = {
            r.post_id: r
            for r in conn.execute(
                select(
                    Item.id, Item.post_id, Item.status, Item.enqueued_at, Item.model_version, Item.risk
                ).where(Item.post_id.in_([r.post_id for r in fresh]))
            )
        }
        _bulk_insert(
            conn,
            Prediction.__table__,
            [
                {
                    "post_id": r.post_id,
                    "model_version": model_version,
                    "risk": r.risk,
                    "scored_at": now,
                    **{f"p_{k}": r.probabilities[k] for k in LABEL_KEYS},
                }
                for r in fresh
            ],
        )
        new_rows = [r for r in fresh if r.post_id not in existing]
        if new_rows:
            _bulk_insert(
                conn,
                Item.__table__,
                [
                    {
                        "post_id": r.post_id,
                        "text": r.text,
                        "source": r.source,
                        "author": r.author,
                        "url": r.url,
                        "created_at": r.created_at,
                        "model_name": r.model_name,
                        "model_version": model_version,
                        "probabilities": r.probabilities,
                        "flags": r.flags,
                        "thresholds": r.thresholds,
                        "spans": r.spans,
                        "risk": r.risk,
                        "priority_key": priority_key(r.risk, now, aging_per_hour),
                        "required_reviews": 2 if r.risk >= double_review_risk else 1,
                        "review_count": 0,
                        "status": PENDING,
                        "enqueued_at": now,
                        "updated_at": now,
                    }
                    for r in new_rows
                ],
            )
        updates = [
            (existing[r.post_id], r)
            for r in fresh
            if r.post_id in existing and existing[r.post_id].status == PENDING
        ]
        n_updated = 0
        rescored: list[dict[str, Any]] = []
        for old, r in updates:
            res = conn.execute(
                update(Item)
                .where(Item.id == old.id, Item.status == PENDING)
                .values(
                    text=r.text,
                    source=r.source,
                    author=r.author,
                    url=r.url,
                    created_at=r.created_at,
                    model_name=r.model_name,
                    model_version=model_version,
                    probabilities=r.probabilities,
                    flags=r.flags,
                    thresholds=r.thresholds,
                    spans=r.spans,
                    risk=r.risk,
                    priority_key=priority_key(r.risk, old.enqueued_at, aging_per_hour),
                    # Never lower the bar for an item already on its way through double review.
                    required_reviews=func.max(Item.required_reviews, 2 if r.risk >= double_review_risk else 1)
                    if conn.dialect.name == "sqlite"
                    else func.greatest(Item.required_reviews, 2 if r.risk >= double_review_risk else 1),
                    updated_at=now,
                )
            )
            if res.rowcount:
                n_updated += 1
                rescored.append(
                    {
                        "at": now,
                        "actor_id": None,
                        "item_id": old.id,
                        "event": "rescore",
                        "detail": {
                            "from": old.model_version,
                            "to": model_version,
                            "risk_before": old.risk,
                            "risk": r.risk,
                        },
                    }
                )
        if rescored:  # a pending item's scores changed: the audit log says from which model to which
            conn.execute(_AUDIT, rescored)
        return len(new_rows), n_updated, skipped + len(fresh) - len(new_rows) - n_updated


def enqueue_predictions(
    database_url: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    model_version: str,
    risk_threshold: float,
    double_review_risk: float = 0.85,
    aging_per_hour: float = 0.01,
) -> EnqueueResult:
    """The scoring job's entry point: migrate the database if needed, then :func:`enqueue`."""
    from pantau.queue.db import make_engine, upgrade

    engine = make_engine(database_url)
    try:
        upgrade(engine)
        return enqueue(
            engine,
            rows,
            model_version=model_version,
            risk_threshold=risk_threshold,
            double_review_risk=double_review_risk,
            aging_per_hour=aging_per_hour,
        )
    finally:
        engine.dispose()


# ----------------------------------------------------------------------------------------------- audit


def _audit(
    conn: Connection,
    actor_id: int | None,
    item_id: int | None,
    event: str,
    detail: dict[str, Any],
    at: datetime,
) -> None:
    conn.execute(
        _AUDIT, {"at": at, "actor_id": actor_id, "item_id": item_id, "event": event, "detail": detail}
    )


def audit(
    engine: Engine, actor_id: int | None, event: str, detail: dict[str, Any], item_id: int | None = None
) -> None:
    """Record an event that is not an item change (logins, user administration)."""
    with engine.begin() as conn:
        _audit(conn, actor_id, item_id, event, detail, utcnow())


# ------------------------------------------------------------------------------------------------ claim


@dataclass(frozen=True)
class ItemFilter:
    """Queue filters shared by the web page, the API and claims."""

    label: str | None = None  # only items the model flagged with this label
    min_risk: float | None = None
    max_risk: float | None = None
    source: str | None = None
    since: datetime | None = None  # post created_at ≥
    until: datetime | None = None  # post created_at <

    def __post_init__(self) -> None:
        if self.label is not None and self.label not in LABEL_KEYS:
            raise ValueError(f"unknown label {self.label!r}; valid labels: {', '.join(LABEL_KEYS)}")
        for name in ("min_risk", "max_risk"):
            v = getattr(self, name)
            if v is not None and not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]")

    def clauses(self) -> list[Any]:
        out: list[Any] = []
        if self.label:
            out.append(Item.flags[self.label].as_boolean().is_(True))
        if self.min_risk is not None:
            out.append(Item.risk >= self.min_risk)
        if self.max_risk is not None:
            out.append(Item.risk <= self.max_risk)
        if self.source:
            out.append(Item.source == self.source)
        if self.since is not None:
            out.append(Item.created_at >= self.since)
        if self.until is not None:
            out.append(Item.created_at < self.until)
        return out


def release_expired(conn: Connection, now: datetime) -> list[int]:
    """Return items whose claim lease ran out to pending (inside the caller's transaction)."""
    expired = list(conn.execute(_EXPIRE, {"now": now}).scalars())
    if expired:
        conn.execute(
            _AUDIT,
            [{"at": now, "actor_id": None, "item_id": i, "event": "expire", "detail": {}} for i in expired],
        )
    return expired


# Leases last minutes, so sweeping for expired ones on every claim is wasted work on the hot path:
# each engine sweeps at most once per interval (an expired item waits at most this long to return).
EXPIRY_SWEEP_SECONDS = 2.0
_last_sweep: weakref.WeakKeyDictionary[Engine, datetime] = weakref.WeakKeyDictionary()


def _sweep_due(engine: Engine, now: datetime) -> bool:
    last = _last_sweep.get(engine)
    # A clock that moved backwards (or a caller passing an earlier `now`) always sweeps.
    return last is None or not 0.0 <= (now - last).total_seconds() < EXPIRY_SWEEP_SECONDS


def claim(
    engine: Engine,
    user_id: int,
    n: int = 1,
    *,
    lease_minutes: float = 15,
    filters: ItemFilter | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Give the reviewer the next ``n`` pending items by priority; returns their ids (maybe fewer).

    An item needing two reviews is never offered again to the reviewer who already decided it.
    """
    if n < 1 or n > 500:
        raise ValueError("n must be between 1 and 500")
    now = now or utcnow()
    sweep = _sweep_due(engine, now)
    with write_transaction(engine) as conn:
        if sweep:
            release_expired(conn, now)
        clauses = filters.clauses() if filters else []
        statement = _claim_statement(_CLAIM_NEXT.where(*clauses)) if clauses else _CLAIM
        params = {"uid": user_id, "n": n, "now": now, "expires": now + timedelta(minutes=lease_minutes)}
        rows = conn.execute(statement, params).all()
        if not rows:
            _active_user(conn, user_id)  # an empty queue, or an account that may not claim: say which
            return []
        # RETURNING gives no order; hand items out by priority as the pick chose them.
        ids = [r.id for r in sorted(rows, key=lambda r: (-r.priority_key, r.id))]
        _audit_claims(conn, ids, user_id, now, lease_minutes)
    if sweep:
        _last_sweep[engine] = now
    return ids


def claim_item(
    engine: Engine, user_id: int, item_id: int, *, lease_minutes: float = 15, now: datetime | None = None
) -> None:
    """Claim one particular item; raises :class:`QueueError` if it is not free for this reviewer."""
    now = now or utcnow()
    with write_transaction(engine) as conn:
        _active_user(conn, user_id)
        release_expired(conn, now)
        row = conn.execute(
            select(Item.id, Item.status, Item.claimed_by, Item.first_reviewer_id)
            .where(Item.id == item_id)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            if conn.execute(select(Item.id).where(Item.id == item_id)).first() is None:
                raise NotFound(f"item {item_id} does not exist")
            raise QueueError(f"item {item_id} is being claimed by someone else")
        if row.status == CLAIMED and row.claimed_by == user_id:
            return
        if row.status != PENDING:
            raise QueueError(f"item {item_id} is {row.status}, not pending")
        if row.first_reviewer_id == user_id:
            raise QueueError(f"item {item_id} needs a second, independent reviewer")
        _take(conn, [item_id], user_id, now, lease_minutes)


def _take(conn: Connection, ids: list[int], user_id: int, now: datetime, lease_minutes: float) -> None:
    expires = now + timedelta(minutes=lease_minutes)
    res = conn.execute(_TAKE, {"ids": ids, "uid": user_id, "now": now, "expires": expires})
    if res.rowcount != len(ids):  # cannot happen under the lock; fail loudly rather than double-assign
        raise QueueError("claim raced with another transaction; try again")
    _audit_claims(conn, ids, user_id, now, lease_minutes)


def _audit_claims(conn: Connection, ids: list[int], user_id: int, now: datetime, lease_minutes: float) -> None:
    detail = {"lease_minutes": lease_minutes}
    conn.execute(
        _AUDIT,
        [{"at": now, "actor_id": user_id, "item_id": i, "event": "claim", "detail": detail} for i in ids],
    )


def release(engine: Engine, user_id: int, item_id: int, *, now: datetime | None = None) -> None:
    """Give a claimed item back to the queue untouched."""
    now = now or utcnow()
    with write_transaction(engine) as conn:
        res = conn.execute(
            update(Item)
            .where(Item.id == item_id, Item.status == CLAIMED, Item.claimed_by == user_id)
            .values(status=PENDING, claimed_by=None, claimed_at=None, lease_expires_at=None, updated_at=now)
        )
        if res.rowcount != 1:
            raise QueueError(f"item {item_id} is not claimed by you")
        _audit(conn, user_id, item_id, "release", {}, now)


# ----------------------------------------------------------------------------------------------- decide


@dataclass(frozen=True)
class DecisionInput:
    """What a reviewer (or lead) decides about one post."""

    labels: Mapping[str, bool]
    action: str
    pasal_280: Sequence[str] = ()
    hs_target: str | None = None
    hs_category: str | None = None
    hs_strength: str | None = None
    note: str | None = None

    def validated(self) -> DecisionInput:
        """Return a normalised copy or raise ``ValueError`` naming the bad field."""
        if not isinstance(self.labels, Mapping):
            raise ValueError("labels must map each label to true/false")  # noqa: TRY004
        unknown = set(self.labels) - set(LABEL_KEYS)
        if unknown:
            raise ValueError(f"unknown label(s) {', '.join(sorted(unknown))}; valid: {', '.join(LABEL_KEYS)}")
        missing = [k for k in LABEL_KEYS if k not in self.labels]
        if missing:
            raise ValueError(f"labels missing: {', '.join(missing)} (confirm or correct all four)")
        labels = {}
        for k in LABEL_KEYS:
            if not isinstance(self.labels[k], bool):
                raise ValueError(f"labels[{k}] must be true or false")  # noqa: TRY004
            labels[k] = self.labels[k]
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, got {self.action!r}")
        clauses = list(dict.fromkeys(self.pasal_280))
        bad = [c for c in clauses if c not in PASAL_280_BY_KEY]
        if bad:
            raise ValueError(f"unknown Pasal 280 clause(s) {', '.join(map(str, bad))}")
        detail = {}
        for name, allowed in (
            ("hs_target", HS_TARGETS),
            ("hs_category", HS_CATEGORIES),
            ("hs_strength", HS_STRENGTHS),
        ):
            value = getattr(self, name) or None
            if value is not None and value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
            if value is not None and not labels["hate_speech"]:
                raise ValueError(f"{name} only applies when hate_speech is true")
            detail[name] = value
        note = (self.note or "").strip() or None
        if note is not None and len(note) > MAX_NOTE_CHARS:
            raise ValueError(f"note longer than {MAX_NOTE_CHARS} characters")
        return DecisionInput(labels=labels, action=self.action, pasal_280=tuple(clauses), note=note, **detail)


@dataclass(frozen=True)
class DecideResult:
    item_id: int
    decision_id: int
    status: str  # the item's status after the decision
    escalation_reason: str | None = None


def _active_user(conn: Connection, user_id: int) -> Any:
    user = conn.execute(_ACTIVE_USER, {"uid": user_id}).first()
    if user is None or not user.active:
        raise Forbidden(f"user {user_id} does not exist or is deactivated")
    return user


def _insert_decision(
    conn: Connection,
    item_id: int,
    user_id: int,
    kind: str,
    d: DecisionInput,
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
        **{k: d.labels[k] for k in LABEL_KEYS},
    }
    return conn.execute(_INSERT_DECISION, row).scalar_one()


def decide(
    engine: Engine, user_id: int, item_id: int, decision: DecisionInput, *, now: datetime | None = None
) -> DecideResult:
    """Record a reviewer's decision on an item they hold.

    Single-review items become decided. Double-review items go back to the queue for a second,
    independent reviewer; when both agree on all four labels the item is decided, otherwise it is
    escalated to a lead. Choosing the action ``escalate`` escalates at once.
    """
    d = decision.validated()
    now = now or utcnow()
    with write_transaction(engine) as conn:
        item = conn.execute(_LOCK_FOR_DECIDE, {"item": item_id, "uid": user_id}).first()
        if item is None:
            _active_user(conn, user_id)
            raise NotFound(f"item {item_id} does not exist")
        if not item.user_active:
            raise Forbidden(f"user {user_id} does not exist or is deactivated")
        if item.status != CLAIMED or item.claimed_by != user_id:
            raise QueueError(f"item {item_id} is not claimed by you (status {item.status}); claim it first")
        decision_id = _insert_decision(conn, item_id, user_id, "review", d, item.model_version, now)
        count = item.review_count + 1
        reason: str | None = None
        values: dict[str, Any] = {
            "review_count": count,
            "claimed_by": None,
            "claimed_at": None,
            "lease_expires_at": None,
            "updated_at": now,
        }
        if d.action == "escalate":
            status, reason = ESCALATED, "reviewer"
        elif count < item.required_reviews:
            status = PENDING
            values["first_reviewer_id"] = user_id
        elif item.required_reviews >= 2:
            first = conn.execute(_FIRST_REVIEW, {"item": item_id, "decision": decision_id}).first()
            agree = first is not None and all(getattr(first, k) == d.labels[k] for k in LABEL_KEYS)
            status, reason = (DECIDED, None) if agree else (ESCALATED, "disagreement")
        else:
            status = DECIDED
        values["status"] = status
        values["escalation_reason"] = reason
        if status == DECIDED:
            values["final_decision_id"] = decision_id
            values["decided_at"] = now
        conn.execute(_UPDATE_ITEM, {"item_key": item_id, **values})
        _audit(
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
            },
            now,
        )
        if status == ESCALATED:
            _audit(conn, user_id, item_id, "escalate", {"reason": reason}, now)
        return DecideResult(item_id, decision_id, status, reason)


def _require_lead(conn: Connection, user_id: int) -> None:
    user = _active_user(conn, user_id)
    if user.role not in ("lead", "admin"):
        raise Forbidden("only a lead or admin may do this")


def resolve(
    engine: Engine, lead_id: int, item_id: int, decision: DecisionInput, *, now: datetime | None = None
) -> DecideResult:
    """A lead settles an escalated item (a reviewer's escalation or a disagreement)."""
    return _lead_decision(engine, lead_id, item_id, decision, "resolve", (ESCALATED,), now)


def override(
    engine: Engine, lead_id: int, item_id: int, decision: DecisionInput, *, now: datetime | None = None
) -> DecideResult:
    """A lead replaces the final decision of a decided item; the earlier decisions stay in history."""
    return _lead_decision(engine, lead_id, item_id, decision, "override", (DECIDED,), now)


def _lead_decision(
    engine: Engine,
    lead_id: int,
    item_id: int,
    decision: DecisionInput,
    kind: str,
    allowed: tuple[str, ...],
    now: datetime | None,
) -> DecideResult:
    d = decision.validated()
    if d.action == "escalate":
        raise ValueError("a lead's decision is final: choose no_violation, warn or takedown")
    now = now or utcnow()
    with write_transaction(engine) as conn:
        _require_lead(conn, lead_id)
        item = conn.execute(
            select(Item.id, Item.status, Item.model_version, Item.final_decision_id)
            .where(Item.id == item_id)
            .with_for_update()
        ).first()
        if item is None:
            raise NotFound(f"item {item_id} does not exist")
        if item.status not in allowed:
            raise QueueError(f"item {item_id} is {item.status}; {kind} needs {' or '.join(allowed)}")
        decision_id = _insert_decision(conn, item_id, lead_id, kind, d, item.model_version, now)
        conn.execute(
            update(Item)
            .where(Item.id == item_id)
            .values(
                status=DECIDED,
                final_decision_id=decision_id,
                decided_at=now,
                updated_at=now,
                escalation_reason=None,
                claimed_by=None,
                claimed_at=None,
                lease_expires_at=None,
            )
        )
        _audit(
            conn,
            lead_id,
            item_id,
            kind,
            {
                "decision_id": decision_id,
                "previous_final": item.final_decision_id,
                "action": d.action,
                "labels": dict(d.labels),
            },
            now,
        )
        return DecideResult(item_id, decision_id, DECIDED)


# ------------------------------------------------------------------------------------------------ reads


@dataclass(frozen=True)
class ItemView:
    """An item as pages and the API show it."""

    id: int
    post_id: str
    text: str
    source: str | None
    author: str | None
    url: str | None
    created_at: datetime | None
    model_name: str | None
    model_version: str
    probabilities: dict[str, float]
    flags: dict[str, bool]
    thresholds: dict[str, float] | None
    spans: list[dict[str, Any]]
    risk: float
    priority: float
    status: str
    required_reviews: int
    review_count: int
    escalation_reason: str | None
    claimed_by: int | None
    lease_expires_at: datetime | None
    enqueued_at: datetime
    decided_at: datetime | None
    final_decision_id: int | None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for key in ("created_at", "lease_expires_at", "enqueued_at", "decided_at"):
            out[key] = iso(out[key])
        return out


@dataclass(frozen=True)
class DecisionView:
    id: int
    item_id: int
    reviewer_id: int
    reviewer: str
    kind: str
    labels: dict[str, bool]
    hs_target: str | None
    hs_category: str | None
    hs_strength: str | None
    action: str
    pasal_280: list[str]
    note: str | None
    model_version: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["created_at"] = iso(self.created_at)
        return out


def iso(value: datetime | None) -> str | None:
    """ISO-8601 UTC with a 'Z', or None."""
    return None if value is None else value.isoformat() + "Z"


_SORTS = {
    "priority": (Item.priority_key.desc(), Item.id),
    "risk": (Item.risk.desc(), Item.id),
    "newest": (Item.created_at.desc(), Item.id),
    "oldest": (Item.created_at.asc(), Item.id),
    "enqueued": (Item.enqueued_at.asc(), Item.id),
}
SORTS: tuple[str, ...] = tuple(_SORTS)


def _view(item: Item, aging_per_hour: float, now: datetime) -> ItemView:
    return ItemView(
        id=item.id,
        post_id=item.post_id,
        text=item.text,
        source=item.source,
        author=item.author,
        url=item.url,
        created_at=item.created_at,
        model_name=item.model_name,
        model_version=item.model_version,
        probabilities=dict(item.probabilities),
        flags=dict(item.flags),
        thresholds=dict(item.thresholds) if item.thresholds else None,
        spans=list(item.spans),
        risk=item.risk,
        priority=effective_priority(item.risk, item.enqueued_at, aging_per_hour, now),
        status=item.status,
        required_reviews=item.required_reviews,
        review_count=item.review_count,
        escalation_reason=item.escalation_reason,
        claimed_by=item.claimed_by,
        lease_expires_at=item.lease_expires_at,
        enqueued_at=item.enqueued_at,
        decided_at=item.decided_at,
        final_decision_id=item.final_decision_id,
    )


def list_items(
    engine: Engine,
    *,
    status: str | Sequence[str] | None = PENDING,
    filters: ItemFilter | None = None,
    sort: str = "priority",
    claimed_by: int | None = None,
    limit: int = 50,
    offset: int = 0,
    aging_per_hour: float = 0.01,
) -> tuple[list[ItemView], int]:
    """A page of items and the total count matching the filters."""
    if sort not in _SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")
    if not 1 <= limit <= 1000 or offset < 0:
        raise ValueError("limit must be 1..1000 and offset ≥ 0")
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
            session.execute(select(Item).where(*where).order_by(*_SORTS[sort]).limit(limit).offset(offset))
            .scalars()
            .all()
        )
        return [_view(i, aging_per_hour, now) for i in items], total


def get_item(engine: Engine, item_id: int, *, aging_per_hour: float = 0.01) -> ItemView:
    """One item, or :class:`NotFound`."""
    with Session(engine) as session:
        item = session.get(Item, item_id)
        if item is None:
            raise NotFound(f"item {item_id} does not exist")
        return _view(item, aging_per_hour, utcnow())


def item_decisions(engine: Engine, item_id: int) -> list[DecisionView]:
    """Every decision on an item, oldest first, with reviewer names."""
    with Session(engine) as session:
        rows = session.execute(
            select(Decision, User.username)
            .join(User, User.id == Decision.reviewer_id)
            .where(Decision.item_id == item_id)
            .order_by(Decision.id)
        ).all()
        return [
            DecisionView(
                id=d.id,
                item_id=d.item_id,
                reviewer_id=d.reviewer_id,
                reviewer=name,
                kind=d.kind,
                labels={k: bool(getattr(d, k)) for k in LABEL_KEYS},
                hs_target=d.hs_target,
                hs_category=d.hs_category,
                hs_strength=d.hs_strength,
                action=d.action,
                pasal_280=list(d.pasal_280),
                note=d.note,
                model_version=d.model_version,
                created_at=d.created_at,
            )
            for d, name in rows
        ]


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
    counts = {s: 0 for s in (PENDING, CLAIMED, DECIDED, ESCALATED)}
    counts.update({s: n for s, n in rows})
    return counts


def claimed_by_user(engine: Engine, user_id: int) -> list[int]:
    """Ids of items the user currently holds."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(Item.id)
                .where(Item.status == CLAIMED, Item.claimed_by == user_id)
                .order_by(Item.priority_key.desc())
            ).scalars()
        )


__all__ = [
    "SORTS",
    "DecideResult",
    "DecisionInput",
    "DecisionView",
    "EnqueueResult",
    "Forbidden",
    "ItemFilter",
    "ItemView",
    "NotFound",
    "QueueError",
    "audit",
    "audit_log",
    "claim",
    "claim_item",
    "claimed_by_user",
    "decide",
    "enqueue",
    "enqueue_predictions",
    "get_item",
    "item_decisions",
    "list_items",
    "override",
    "release",
    "release_expired",
    "resolve",
    "status_counts",
    "utcnow",
]
