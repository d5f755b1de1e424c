"""Enqueue scored posts: validate each row (:class:`ScoredPost`), skip what is already queued, insert
or rescore the rest in batches; invalid rows come back with the reason."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pantau.labels import LABEL_KEYS
from pantau.queue.accounts import account_boosts
from pantau.queue.audit import AUDIT_INSERT, write_event
from pantau.queue.db import open_queue, write_transaction
from pantau.queue.errors import Invalid, describe
from pantau.queue.links import link_key
from pantau.queue.models import Item, Prediction, Status, priority_key, utcnow
from pantau.queue.schemas import ScoredPost


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
    account_boost: float = 0.0,
    account_boost_max: float = 0.0,
) -> EnqueueResult:
    """Put predictions with ``risk >= risk_threshold`` in the queue.

    Idempotent per (post id, model version). A model version not seen before for a post updates the
    item's scores only while it is pending and unclaimed; claimed, decided and escalated items (and
    their decisions) are never touched. Items with ``risk >= double_review_risk`` need two reviewers.
    ``account_boost``/``account_boost_max``: an account's earlier confirmed violations raise its new
    posts' priority (:func:`pantau.queue.accounts.account_boosts`; the shown risk stays the model's).
    """
    if not model_version or not isinstance(model_version, str):
        raise Invalid("model_version must be a non-empty string")
    if not 0.0 <= risk_threshold <= 1.0:
        raise Invalid(f"risk_threshold must be in [0, 1], got {risk_threshold}")
    if batch_size < 1:
        raise Invalid("batch_size must be positive")
    context = {"model_version": model_version}
    inserted = updated = skipped = boosted = 0
    boost = (account_boost, account_boost_max)
    rejected: list[tuple[str, str]] = []
    index = 0
    for chunk in _chunks(rows, batch_size):
        valid: dict[str, ScoredPost] = {}
        for row in chunk:
            index += 1
            try:
                r = ScoredPost.model_validate(row, context=context)
            except ValidationError as exc:
                ident = row.get("id") if isinstance(row, Mapping) else None
                rejected.append((str(ident) if ident not in (None, "") else f"#{index}", describe(exc)))
                continue
            if r.risk < risk_threshold or r.id in valid:
                skipped += 1
                continue
            valid[r.id] = r
        if valid:
            i, u, s, b = _enqueue_batch(
                engine, valid, model_version, double_review_risk, aging_per_hour, now or utcnow(), boost
            )
            inserted, updated, skipped, boosted = inserted + i, updated + u, skipped + s, boosted + b
    if inserted or updated or rejected:
        with engine.begin() as conn:
            write_event(
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
                    **({"account_boosted": boosted} if boosted else {}),
                },
                now or utcnow(),
            )
    return EnqueueResult(inserted, updated, skipped, tuple(rejected))


def _enqueue_batch(
    engine: Engine,
    rows: dict[str, ScoredPost],
    model_version: str,
    double_review_risk: float,
    aging_per_hour: float,
    now: datetime,
    boost: tuple[float, float] = (0.0, 0.0),
) -> tuple[int, int, int, int]:
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
            return 0, 0, skipped, 0
        extra = account_boosts(conn, (r.author for r in fresh), *boost)
        existing = {
            r.post_id: r
            for r in conn.execute(
                select(
                    Item.id, Item.post_id, Item.status, Item.enqueued_at, Item.model_version, Item.risk
                ).where(Item.post_id.in_([r.id for r in fresh]))
            )
        }
        _bulk_insert(
            conn,
            Prediction.__table__,
            [
                {
                    "post_id": r.id,
                    "model_version": model_version,
                    "risk": r.risk,
                    "scored_at": now,
                    **{f"p_{k}": r.probabilities[k] for k in LABEL_KEYS},
                }
                for r in fresh
            ],
        )
        new_rows = [r for r in fresh if r.id not in existing]
        if new_rows:
            _bulk_insert(
                conn,
                Item.__table__,
                [
                    {
                        "post_id": r.id,
                        "text": r.text,
                        "source": r.source,
                        "author": r.author,
                        "url": r.url,
                        "url_key": link_key(r.url),
                        "created_at": r.created_at,
                        "model_name": r.model_name,
                        "model_version": model_version,
                        "probabilities": r.probabilities,
                        "flags": r.flags,
                        "thresholds": r.thresholds,
                        "spans": r.spans,
                        "risk": r.risk,
                        "priority_key": priority_key(r.risk + extra.get(r.author or "", 0.0), now, aging_per_hour),
                        "required_reviews": 2 if r.risk >= double_review_risk else 1,
                        "review_count": 0,
                        "status": Status.PENDING,
                        "enqueued_at": now,
                        "updated_at": now,
                    }
                    for r in new_rows
                ],
            )
        updates = [
            (existing[r.id], r) for r in fresh if r.id in existing and existing[r.id].status == Status.PENDING
        ]
        n_updated = 0
        rescored: list[dict[str, Any]] = []
        for old, r in updates:
            res = conn.execute(
                update(Item)
                .where(Item.id == old.id, Item.status == Status.PENDING)
                .values(
                    text=r.text,
                    source=r.source,
                    author=r.author,
                    url=r.url,
                    url_key=link_key(r.url),
                    created_at=r.created_at,
                    model_name=r.model_name,
                    model_version=model_version,
                    probabilities=r.probabilities,
                    flags=r.flags,
                    thresholds=r.thresholds,
                    spans=r.spans,
                    risk=r.risk,
                    priority_key=priority_key(
                        r.risk + extra.get(r.author or "", 0.0), old.enqueued_at, aging_per_hour
                    ),
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
            conn.execute(AUDIT_INSERT, rescored)
        n_boosted = sum(1 for r in fresh if r.author in extra)
        return len(new_rows), n_updated, skipped + len(fresh) - len(new_rows) - n_updated, n_boosted


def enqueue_predictions(
    queue: str | Engine,
    rows: Iterable[Mapping[str, Any]],
    *,
    model_version: str,
    risk_threshold: float,
    double_review_risk: float = 0.85,
    aging_per_hour: float = 0.01,
    account_boost: float = 0.0,
    account_boost_max: float = 0.0,
) -> EnqueueResult:
    """The scoring job's entry point: :func:`enqueue` into an engine, or into a database URL.

    A job that enqueues many chunks passes an engine from :func:`~pantau.queue.db.open_queue`, built
    and migrated once; a URL builds, migrates and disposes of an engine for this one call.
    """
    options: dict[str, Any] = {
        "model_version": model_version,
        "risk_threshold": risk_threshold,
        "double_review_risk": double_review_risk,
        "aging_per_hour": aging_per_hour,
        "account_boost": account_boost,
        "account_boost_max": account_boost_max,
    }
    if not isinstance(queue, str):
        return enqueue(queue, rows, **options)
    engine = open_queue(queue)
    try:
        return enqueue(engine, rows, **options)
    finally:
        engine.dispose()


__all__ = ["EnqueueResult", "enqueue", "enqueue_predictions"]
