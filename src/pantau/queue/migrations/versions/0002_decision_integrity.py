"""Decision integrity: mark decisions recorded while the form pre-ticked the model's labels; undo.

``decisions.labels_entered`` is NULL for every decision recorded before this revision (the item page
arrived with the model's flagged labels and suggested Pasal 280 clauses already ticked, so a stored
label may be the model's guess rather than a person's choice) and TRUE for every decision after it.
The decisions table is append-only, so the mark is a new nullable column rather than a rewrite;
``pantau queue export`` leaves the NULL ones out unless asked (``--include-legacy``), and the
statistics skip them. ``undone_decisions`` records decisions their author took back.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch (copy-and-rename) rebuild on SQLite would drop
    # the append-only triggers with the old table.
    op.add_column("decisions", sa.Column("labels_entered", sa.Boolean(), nullable=True))
    op.create_table(
        "undone_decisions",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("undone_by", sa.Integer(), nullable=False),
        sa.Column("undone_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("decision_id", name="pk_undone_decisions"),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name="fk_undone_decisions_decision_id_decisions"
        ),
        sa.ForeignKeyConstraint(["undone_by"], ["users.id"], name="fk_undone_decisions_undone_by_users"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER undone_decisions_no_{verb.lower()} BEFORE {verb} ON undone_decisions "
                "BEGIN SELECT RAISE(ABORT, 'undone_decisions is append-only'); END"
            )
    elif bind.dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER undone_decisions_append_only BEFORE UPDATE OR DELETE ON undone_decisions "
            "FOR EACH ROW EXECUTE FUNCTION pantau_append_only()"
        )
    legacy = bind.execute(sa.text("SELECT COUNT(*) FROM decisions")).scalar_one()
    if legacy:
        audit = sa.table(
            "audit_log",
            sa.column("at", sa.DateTime()),
            sa.column("actor_id", sa.Integer()),
            sa.column("item_id", sa.Integer()),
            sa.column("event", sa.String()),
            sa.column("detail", JSON),
        )
        from datetime import UTC, datetime

        now = datetime.now(UTC).replace(tzinfo=None)
        detail = {"decisions": int(legacy), "why": "recorded while the form pre-ticked the model's labels"}
        op.execute(
            audit.insert().values(at=now, actor_id=None, item_id=None, event="legacy_marked", detail=detail)
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS undone_decisions_append_only ON undone_decisions")
    op.drop_table("undone_decisions")
    # SQLite ≥ 3.35 drops a column in place (no rebuild, so the triggers stay).
    op.execute("ALTER TABLE decisions DROP COLUMN labels_entered")
