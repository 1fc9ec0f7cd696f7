"""Ledger entries that SQL refused, set aside so that every other entry keeps flowing.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_quarantine",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("shard", sa.SmallInteger, nullable=False),
        sa.Column("entry_id", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("set_aside_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("shard", "entry_id"),
    )


def downgrade() -> None:
    op.drop_table("ledger_quarantine")
