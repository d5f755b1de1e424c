"""The review queue: a SQLAlchemy store (SQLite or PostgreSQL) with Alembic migrations.

Scoring calls :func:`enqueue_predictions`; reviewers claim and decide through the web app or the
CLI; :func:`export_decisions` turns decisions back into labelled training data.
"""

from __future__ import annotations

from pantau.queue.export import export_decisions
from pantau.queue.store import (
    DecideResult,
    DecisionInput,
    EnqueueResult,
    Forbidden,
    ItemFilter,
    NotFound,
    QueueError,
    claim,
    decide,
    enqueue,
    enqueue_predictions,
    override,
    resolve,
)

__all__ = [
    "DecideResult",
    "DecisionInput",
    "EnqueueResult",
    "Forbidden",
    "ItemFilter",
    "NotFound",
    "QueueError",
    "claim",
    "decide",
    "enqueue",
    "enqueue_predictions",
    "export_decisions",
    "override",
    "resolve",
]
