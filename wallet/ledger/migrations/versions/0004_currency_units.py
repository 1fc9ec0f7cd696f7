"""Players record the unit of their amounts; currency codes may be longer than ISO's three letters.

Players opened before this revision were kept in hundredths whatever their currency: their rows
get unit 2, so an old JPY balance keeps its meaning. Operator-defined currencies (WALLET_CURRENCIES,
e.g. USDT) need up to 10 characters.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("balances") as batch:
        batch.add_column(sa.Column("unit", sa.SmallInteger, nullable=False, server_default="2"))
        batch.alter_column("currency", type_=sa.String(10), existing_type=sa.String(3), existing_nullable=False)
    with op.batch_alter_table("ledger_entries") as batch:
        batch.alter_column("currency", type_=sa.String(10), existing_type=sa.String(3), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.alter_column("currency", type_=sa.String(3), existing_type=sa.String(10), existing_nullable=False)
    with op.batch_alter_table("balances") as batch:
        batch.alter_column("currency", type_=sa.String(3), existing_type=sa.String(10), existing_nullable=False)
        batch.drop_column("unit")
