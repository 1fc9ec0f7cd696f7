"""Alembic migrations of the durable store (run by `wallet migrate`, the Procfile's release step)."""
