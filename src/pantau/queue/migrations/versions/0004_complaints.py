"""Public complaints (posko aduan).

``complaints`` holds one row per reported post (reports of the same normalised link or text merged,
with a count and how often each label was named) and points at the post's queue item
(``source='complaint'``). ``complaint_reports`` holds each report: the labels chosen, an optional
description and contact (erased after ``complaints.retention_days``) and the SHA-256 of the
reporter's tracking code. ``complaint_throttle`` counts reports per client per window.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("url_key", sa.String(64), nullable=True),
        sa.Column("text_key", sa.String(64), nullable=True),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("label_counts", JSON, nullable=False),
        sa.Column("scored", sa.Boolean(), nullable=False),
        sa.Column("first_reported_at", sa.DateTime(), nullable=False),
        sa.Column("last_reported_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaints"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_complaints_item_id_items"),
        sa.UniqueConstraint("item_id", name="uq_complaints_item_id"),
        sa.UniqueConstraint("url_key", name="uq_complaints_url_key"),
        sa.UniqueConstraint("text_key", name="uq_complaints_text_key"),
    )
    op.create_table(
        "complaint_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("contact", sa.String(255), nullable=True),
        sa.Column("contact_purged_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaint_reports"),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name="fk_complaint_reports_complaint_id_complaints"
        ),
        sa.UniqueConstraint("code_hash", name="uq_complaint_reports_code_hash"),
    )
    op.create_index("ix_complaint_reports_complaint", "complaint_reports", ["complaint_id"])
    op.create_index("ix_complaint_reports_created_at", "complaint_reports", ["created_at"])
    op.create_table(
        "complaint_throttle",
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client", name="pk_complaint_throttle"),
    )


def downgrade() -> None:
    op.drop_table("complaint_throttle")
    op.drop_index("ix_complaint_reports_created_at", table_name="complaint_reports")
    op.drop_index("ix_complaint_reports_complaint", table_name="complaint_reports")
    op.drop_table("complaint_reports")
    op.drop_table("complaints")
