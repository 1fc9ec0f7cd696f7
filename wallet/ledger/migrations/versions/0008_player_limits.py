"""Player protection: each player's limits, pending changes and exclusion, as the latest 'limits'
journal entry left them (the period counters are rebuilt from the ledger on restore).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "player_limits",
        sa.Column("player", sa.String(128), primary_key=True),
        sa.Column("limits", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("player_limits")
