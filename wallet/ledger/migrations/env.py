"""Alembic environment: migrate the database that `wallet migrate` (or the caller) connects to."""

from __future__ import annotations

from alembic import context

from wallet.ledger.db import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
