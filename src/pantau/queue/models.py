"""SQLAlchemy tables of the review queue, its status/role/action vocabularies and the priority key.

The Alembic migrations in ``pantau/queue/migrations`` create exactly these tables; a test compares
the migrated schema with this metadata so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonType = JSON().with_variant(JSONB(), "postgresql")


class Status(StrEnum):
    """Item life cycle: pending → claimed → decided | escalated; an expired claim returns to pending."""

    PENDING = "pending"
    CLAIMED = "claimed"
    DECIDED = "decided"
    ESCALATED = "escalated"


class Role(StrEnum):
    """Account roles, lowest first (each role may do what the ones before it may)."""

    REVIEWER = "reviewer"
    LEAD = "lead"
    ADMIN = "admin"


class Action(StrEnum):
    """What a decision recommends; ``escalate`` hands the item to a lead."""

    NO_VIOLATION = "no_violation"
    WARN = "warn"
    TAKEDOWN = "takedown"
    ESCALATE = "escalate"


class DecisionKind(StrEnum):
    """review: an independent reviewer's decision; resolve: a lead settles an escalation; override: a
    lead replaces a final decision; campaign: a lead decided every open item of a campaign at once."""

    REVIEW = "review"
    RESOLVE = "resolve"
    OVERRIDE = "override"
    CAMPAIGN = "campaign"  # a lead decided a whole campaign in one action (one decision per item)


# Priority ages from a fixed origin so the key stays a small, exact float.
_AGING_ORIGIN = datetime(2024, 1, 1)


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


def aged_priority(key: float, aging_per_hour: float, now: datetime) -> float:
    """The priority shown for a stored ``priority_key``: what the queue sorts by, aged to ``now``.

    For an item enqueued at its model risk this is :func:`effective_priority`; for one ranked by a rule
    of its own (a public complaint, :mod:`pantau.queue.complaints`) it is that rule's figure, aged."""
    return key + aging_per_hour * max(0.0, (now - _AGING_ORIGIN).total_seconds() / 3600.0)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Bumped on password change or deactivation so old session cookies stop working.
    session_epoch: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class Item(Base):
    """One post in the queue with the latest prediction it was enqueued or updated with."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    source: Mapped[str | None] = mapped_column(String(255))
    author: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(DateTime)
    model_name: Mapped[str | None] = mapped_column(String(255))
    model_version: Mapped[str] = mapped_column(String(255), nullable=False)
    probabilities: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    flags: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    thresholds: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    spans: Mapped[list[Any]] = mapped_column(JsonType, nullable=False)
    risk: Mapped[float] = mapped_column(Float, nullable=False)
    # risk - aging_per_hour * enqueued_hours: ordering by it equals ordering by risk + aging * age, and
    # it can be indexed because the time-dependent part is the same for every item.
    priority_key: Mapped[float] = mapped_column(Float, nullable=False)
    required_reviews: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    review_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    first_reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=Status.PENDING)
    escalation_reason: Mapped[str | None] = mapped_column(String(32))
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    final_decision_id: Mapped[int | None] = mapped_column(Integer)
    enqueued_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The coordinated-posting campaign the post was found in (issue 18 §2; pantau.queue.campaigns_store).
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    # SHA-256 of the normalised link (pantau.queue.links.link_key): a public report finds the post by it.
    url_key: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_items_status_priority", "status", "priority_key"),
        Index("ix_items_status_lease", "status", "lease_expires_at"),
        Index("ix_items_claimed_by", "claimed_by"),
        Index("ix_items_decided_at", "decided_at"),
        Index("ix_items_author", "author"),
        Index("ix_items_campaign_id", "campaign_id"),
        Index("ix_items_url_key", "url_key"),
    )


class CampaignRow(Base):
    """A campaign found by a scoring run's index (pantau.campaigns): ``key`` is the run's token and the
    index's id (``3f2a9c1e-C000001``), unique across runs; the rest is the index's summary as last seen."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    accounts: Mapped[list[Any]] = mapped_column(JsonType, nullable=False)
    posts_total: Mapped[int] = mapped_column(Integer, nullable=False)
    posts_without_account: Mapped[int] = mapped_column(Integer, nullable=False)
    posts_without_time: Mapped[int] = mapped_column(Integer, nullable=False)
    first_seen: Mapped[datetime | None] = mapped_column(DateTime)
    last_seen: Mapped[datetime | None] = mapped_column(DateTime)
    basis: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class Prediction(Base):
    """Every (post, model version) score ever enqueued: makes enqueue idempotent and shows score drift."""

    __tablename__ = "predictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[str] = mapped_column(String(255), nullable=False)
    model_version: Mapped[str] = mapped_column(String(255), nullable=False)
    # One column per label (not JSON) so score drift is a plain AVG in SQL on both databases.
    p_hate_speech: Mapped[float] = mapped_column(Float, nullable=False)
    p_abusive: Mapped[float] = mapped_column(Float, nullable=False)
    p_divisive_label: Mapped[float] = mapped_column(Float, nullable=False)
    p_incitement: Mapped[float] = mapped_column(Float, nullable=False)
    risk: Mapped[float] = mapped_column(Float, nullable=False)
    scored_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)

    __table_args__ = (
        UniqueConstraint("post_id", "model_version", name="uq_predictions_post_version"),
        Index("ix_predictions_model_version", "model_version"),
    )


class Decision(Base):
    """Append-only: a database trigger refuses UPDATE and DELETE."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), nullable=False)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    hate_speech: Mapped[bool] = mapped_column(Boolean, nullable=False)
    abusive: Mapped[bool] = mapped_column(Boolean, nullable=False)
    divisive_label: Mapped[bool] = mapped_column(Boolean, nullable=False)
    incitement: Mapped[bool] = mapped_column(Boolean, nullable=False)
    hs_target: Mapped[str | None] = mapped_column(String(16))
    hs_category: Mapped[str | None] = mapped_column(String(16))
    hs_strength: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    pasal_280: Mapped[list[str]] = mapped_column(JsonType, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    model_version: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    # True: a person set every label on a form that started blank, and the action agreed with them.
    # NULL: recorded before migration 0002, when the page pre-ticked the model's labels and clauses, so
    # which labels a person chose cannot be told apart from the model's guess (export leaves them out).
    labels_entered: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_decisions_item", "item_id"),
        Index("ix_decisions_created_at", "created_at"),
    )


class UndoneDecision(Base):
    """A decision its author took back within the undo window (append-only, like decisions).

    The decision row stays in history; reviews, agreement, precision and export skip it."""

    __tablename__ = "undone_decisions"

    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), primary_key=True)
    undone_by: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    undone_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class WebSession(Base):
    """A signed-in browser or API client; the cookie holds a random token, the table its SHA-256.

    A session counts only while it is here, unrevoked and unexpired, so signing out (or a password,
    role or account change) ends it on the server: a copied cookie replayed afterwards reads nothing."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex SHA-256 of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    # logout | password | role | active | admin: why it ended (the audit log has who and when too).
    revoked_why: Mapped[str | None] = mapped_column(String(16))
    client: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_sessions_user_id", "user_id"),
        Index("ix_sessions_expires_at", "expires_at"),
    )


class LoginThrottleRow(Base):
    """Recent failed sign-ins per (username, client) and per client (``username`` = '').

    In the database, not in one process's memory, so the delays hold across workers and restarts."""

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    first_failure_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    # No sign-in for this key before then (a growing delay, never a lock of the account itself).
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEvent(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    item_id: Mapped[int | None] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)

    __table_args__ = (
        Index("ix_audit_log_item", "item_id"),
        Index("ix_audit_log_at", "at"),
    )


class Complaint(Base):
    """One reported post of the public complaint desk (posko aduan): every report of the same post
    (the same normalised link, or the same normalised text) is merged here, with a count.

    The post itself is an item with ``source='complaint'`` — or, when ``linked_at`` is set, the item batch
    scoring had already queued for the same link (no second item); ``pantau.queue.complaints`` owns the
    rules."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), unique=True, nullable=False)
    # SHA-256 of the normalised link / of the normalised text; either may be missing, not both.
    url_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    text_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    reports: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # label key -> how many reports named it
    label_counts: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    scored: Mapped[bool] = mapped_column(Boolean, nullable=False)  # False: no model was configured
    first_reported_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    last_reported_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    # Set when the first report's link matched a batch-scored item: item_id is that item, not one of ours.
    linked_at: Mapped[datetime | None] = mapped_column(DateTime)


class ComplaintReport(Base):
    """One person's report: the labels they chose, what they wrote, their contact (leads only; erased
    after ``complaints.retention_days``) and the SHA-256 of their tracking code (the code itself is
    shown once, never stored)."""

    __tablename__ = "complaint_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    labels: Mapped[list[Any]] = mapped_column(JsonType, nullable=False)
    details: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(255))
    contact_purged_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)

    __table_args__ = (
        Index("ix_complaint_reports_complaint", "complaint_id"),
        Index("ix_complaint_reports_created_at", "created_at"),
    )


class ComplaintThrottleRow(Base):
    """Reports accepted per client (a SHA-256 of its address; '*' counts everyone) in the current
    fixed window: in the database, so the limit holds across workers and restarts."""

    __tablename__ = "complaint_throttle"

    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
