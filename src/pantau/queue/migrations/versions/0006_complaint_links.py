"""Public reports linked to batch-scored posts (issue 18 §3).

``items.url_key`` (indexed) holds the SHA-256 of the item's normalised link
(:func:`pantau.queue.links.link_key`, the same key as ``complaints.url_key``), so a report of a post that
batch scoring already queued finds that item with one index lookup; existing rows are filled here.
``complaints.linked_at`` says when a complaint was attached to such an item instead of getting its own.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-11
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pantau.queue.links import link_key

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHUNK = 5000


def _backfill() -> None:
    """Key every item that has a link, a chunk at a time (ids ascending, so memory stays flat)."""
    bind = op.get_bind()
    items = sa.table(
        "items",
        sa.column("id", sa.Integer()),
        sa.column("url", sa.Text()),
        sa.column("url_key", sa.String(64)),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(items.c.id, items.c.url)
            .where(items.c.id > last, items.c.url.is_not(None))
            .order_by(items.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return
        keyed = [{"b_id": r.id, "b_key": link_key(r.url)} for r in rows]
        keyed = [k for k in keyed if k["b_key"] is not None]
        if keyed:
            bind.execute(
                items.update()
                .where(items.c.id == sa.bindparam("b_id"))
                .values(url_key=sa.bindparam("b_key")),
                keyed,
            )
        last = rows[-1].id


def upgrade() -> None:
    op.add_column("items", sa.Column("url_key", sa.String(64), nullable=True))
    op.create_index("ix_items_url_key", "items", ["url_key"])
    op.add_column("complaints", sa.Column("linked_at", sa.DateTime(), nullable=True))
    _backfill()


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite ≥ 3.35): neither column has a reference, and the index goes first.
    op.drop_column("complaints", "linked_at")
    op.drop_index("ix_items_url_key", table_name="items")
    op.drop_column("items", "url_key")
