"""Aged ids: transactions indexed by creation time (the aged-id filter is sized from the recent
rate), and the tombstones 'P' of earlier versions queued for removal from Redis.

Earlier versions marked a record ``pruned`` when they replaced it in Redis by a tombstone that
stayed there for good. Marked unpruned again, those records are picked up by the snapshot job's
next prune passes like any record past its retention: the tombstone leaves Redis and the id goes
into the aged-id filter (or nowhere, when it is older than the aged-id horizon).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_transactions_created", "transactions", ["created_at"])
    op.execute("UPDATE transactions SET pruned = false WHERE pruned = true")


def downgrade() -> None:
    op.drop_index("ix_transactions_created", "transactions")
