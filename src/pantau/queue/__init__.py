"""The review queue: a SQLAlchemy store (SQLite or PostgreSQL) with Alembic migrations.

Scoring calls :func:`enqueue_predictions`; reviewers claim and decide through the web app or the
CLI; :func:`export_decisions` turns decisions back into labelled training data. Each job lives in
its own module (enqueue, claims, decisions, reads, audit); this package re-exports their public names.
"""

from __future__ import annotations

from pantau.queue.audit import audit
from pantau.queue.claims import (
    EXPIRY_SWEEP_SECONDS,
    claim,
    claim_item,
    extend_claim,
    release,
    release_expired,
)
from pantau.queue.db import open_queue
from pantau.queue.decisions import decide, override, resolve, was_reviewer
from pantau.queue.enqueue import EnqueueResult, enqueue, enqueue_predictions
from pantau.queue.errors import ClaimLost, Forbidden, Invalid, NotFound, QueueError
from pantau.queue.export import export_decisions
from pantau.queue.models import Action, DecisionKind, Role, Status, utcnow
from pantau.queue.reads import (
    SORTS,
    Sort,
    audit_log,
    claimed_by_user,
    get_item,
    item_decisions,
    list_items,
    score_history,
    status_counts,
)
from pantau.queue.schemas import (
    DecideResult,
    DecisionIn,
    DecisionOut,
    ItemFilter,
    ItemOut,
    ScoredPost,
    iso,
    parse_datetime,
)
from pantau.queue.undo import UNDO_SECONDS, undo_last

__all__ = [
    "EXPIRY_SWEEP_SECONDS",
    "SORTS",
    "UNDO_SECONDS",
    "Action",
    "ClaimLost",
    "DecideResult",
    "DecisionIn",
    "DecisionKind",
    "DecisionOut",
    "EnqueueResult",
    "Forbidden",
    "Invalid",
    "ItemFilter",
    "ItemOut",
    "NotFound",
    "QueueError",
    "Role",
    "ScoredPost",
    "Sort",
    "Status",
    "audit",
    "audit_log",
    "claim",
    "claim_item",
    "claimed_by_user",
    "decide",
    "enqueue",
    "enqueue_predictions",
    "export_decisions",
    "extend_claim",
    "get_item",
    "iso",
    "item_decisions",
    "list_items",
    "open_queue",
    "override",
    "parse_datetime",
    "release",
    "release_expired",
    "resolve",
    "score_history",
    "status_counts",
    "undo_last",
    "utcnow",
    "was_reviewer",
]
