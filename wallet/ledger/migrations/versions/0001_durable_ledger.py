"""Durable ledger: ledger entries, balances, transaction records and shard cursors.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.String(128)
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("seq", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("shard", sa.SmallInteger, nullable=False),
        sa.Column("entry_id", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("player", _ID, nullable=False),
        sa.Column("tx", _ID, nullable=False),
        sa.Column("target", _ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("bet", sa.BigInteger, nullable=False),
        sa.Column("win", sa.BigInteger, nullable=False),
        sa.Column("balance_after", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("round", _ID, nullable=False),
        sa.Column("game", _ID, nullable=False),
        sa.UniqueConstraint("shard", "entry_id", name="uq_ledger_entries_shard_entry"),
    )
    op.create_index("ix_ledger_entries_player_seq", "ledger_entries", ["player", "seq"])
    op.create_index("ix_ledger_entries_day", "ledger_entries", ["day"])
    op.create_table(
        "balances",
        sa.Column("player", _ID, primary_key=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("balance", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "transactions",
        sa.Column("provider", sa.String(32), primary_key=True),
        sa.Column("player", _ID, primary_key=True),
        sa.Column("tx", _ID, primary_key=True),
        sa.Column("state", sa.String(1), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("delta", sa.BigInteger),
        sa.Column("fingerprint", sa.Text),
        sa.Column("entry_id", sa.String(32)),
        sa.Column("balance_after", sa.BigInteger),
        sa.Column("round", _ID),
        sa.Column("game", _ID),
        sa.Column("outcome", sa.String(16)),
        sa.Column("target", _ID),
        sa.Column("rolled_back_by", sa.String(32)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pruned", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_transactions_pruned_created", "transactions", ["pruned", "created_at"])
    op.create_table(
        "cursors",
        sa.Column("shard", sa.SmallInteger, primary_key=True),
        sa.Column("last_id", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    for table in ("cursors", "transactions", "balances", "ledger_entries"):
        op.drop_table(table)
