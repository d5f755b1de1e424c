"""Accounts and campaigns (issue 18 §1–2).

``items.author`` gets an index (the account pages and the account boost look posts up by account);
``campaigns`` holds each campaign a scoring run's index found (its key is the run's token and the index's
id), and ``items.campaign_id`` links a post to its campaign.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("accounts", JSON, nullable=False),
        sa.Column("posts_total", sa.Integer(), nullable=False),
        sa.Column("posts_without_account", sa.Integer(), nullable=False),
        sa.Column("posts_without_time", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=True),
        sa.Column("last_seen", sa.DateTime(), nullable=True),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sa.UniqueConstraint("key", name="uq_campaigns_key"),
    )
    if op.get_bind().dialect.name == "sqlite":
        # In place (ADD COLUMN … REFERENCES): no rebuild of items, which other tables refer to.
        op.execute("ALTER TABLE items ADD COLUMN campaign_id INTEGER REFERENCES campaigns (id)")
    else:
        op.add_column("items", sa.Column("campaign_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_items_campaign_id_campaigns", "items", "campaigns", ["campaign_id"], ["id"])
    op.create_index("ix_items_author", "items", ["author"])
    op.create_index("ix_items_campaign_id", "items", ["campaign_id"])


def downgrade() -> None:
    op.drop_index("ix_items_campaign_id", table_name="items")
    op.drop_index("ix_items_author", table_name="items")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("items") as batch:  # SQLite cannot drop a column that has a reference
            batch.drop_column("campaign_id")
    else:
        op.drop_constraint("fk_items_campaign_id_campaigns", "items", type_="foreignkey")
        op.drop_column("items", "campaign_id")
    op.drop_table("campaigns")
