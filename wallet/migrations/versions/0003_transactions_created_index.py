"""Transactions indexed by creation time: the aged-id filter is sized from the last day's count.

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


def downgrade() -> None:
    op.drop_index("ix_transactions_created", "transactions")
