"""Queue tables: users, items, predictions, decisions (append-only), audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(255), nullable=True),
        sa.Column("author", sa.String(255), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.Column("model_name", sa.String(255), nullable=True),
        sa.Column("model_version", sa.String(255), nullable=False),
        sa.Column("probabilities", JSON, nullable=False),
        sa.Column("flags", JSON, nullable=False),
        sa.Column("thresholds", JSON, nullable=True),
        sa.Column("spans", JSON, nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("priority_key", sa.Float(), nullable=False),
        sa.Column("required_reviews", sa.Integer(), nullable=False),
        sa.Column("review_count", sa.Integer(), nullable=False),
        sa.Column("first_reviewer_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("escalation_reason", sa.String(32), nullable=True),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("final_decision_id", sa.Integer(), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint("post_id", name="uq_items_post_id"),
        sa.ForeignKeyConstraint(["first_reviewer_id"], ["users.id"], name="fk_items_first_reviewer_id_users"),
        sa.ForeignKeyConstraint(["claimed_by"], ["users.id"], name="fk_items_claimed_by_users"),
    )
    op.create_index("ix_items_status_priority", "items", ["status", "priority_key"])
    op.create_index("ix_items_status_lease", "items", ["status", "lease_expires_at"])
    op.create_index("ix_items_claimed_by", "items", ["claimed_by"])
    op.create_index("ix_items_decided_at", "items", ["decided_at"])

    op.create_table(
        "predictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.String(255), nullable=False),
        sa.Column("model_version", sa.String(255), nullable=False),
        sa.Column("p_hate_speech", sa.Float(), nullable=False),
        sa.Column("p_abusive", sa.Float(), nullable=False),
        sa.Column("p_divisive_label", sa.Float(), nullable=False),
        sa.Column("p_incitement", sa.Float(), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("scored_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_predictions"),
        sa.UniqueConstraint("post_id", "model_version", name="uq_predictions_post_version"),
    )
    op.create_index("ix_predictions_model_version", "predictions", ["model_version"])

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("hate_speech", sa.Boolean(), nullable=False),
        sa.Column("abusive", sa.Boolean(), nullable=False),
        sa.Column("divisive_label", sa.Boolean(), nullable=False),
        sa.Column("incitement", sa.Boolean(), nullable=False),
        sa.Column("hs_target", sa.String(16), nullable=True),
        sa.Column("hs_category", sa.String(16), nullable=True),
        sa.Column("hs_strength", sa.String(16), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("pasal_280", JSON, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("model_version", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_decisions_item_id_items"),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"], name="fk_decisions_reviewer_id_users"),
    )
    op.create_index("ix_decisions_item", "decisions", ["item_id"])
    op.create_index("ix_decisions_created_at", "decisions", ["created_at"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name="fk_audit_log_actor_id_users"),
    )
    op.create_index("ix_audit_log_item", "audit_log", ["item_id"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])

    _append_only(("decisions", "audit_log"))


def _append_only(tables: tuple[str, ...]) -> None:
    """Decisions and the audit log are history: the database itself refuses UPDATE and DELETE."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in tables:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION pantau_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        for table in tables:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION pantau_append_only()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in ("decisions", "audit_log"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS pantau_append_only()")
    op.drop_table("audit_log")
    op.drop_table("decisions")
    op.drop_table("predictions")
    op.drop_table("items")
    op.drop_table("users")
