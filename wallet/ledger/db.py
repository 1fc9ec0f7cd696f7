"""The durable store: SQLAlchemy engine from DATABASE_URL and the tables the snapshot job fills.

    ledger_entries   every balance change drained from the Redis ledger streams (append-only)
    balances         per player: balance after the last drained entry, currency, status
    transactions     per (provider, player, transaction id): the record as Redis had it, for
                     restore and for answering transactions pruned from Redis
    cursors          per ledger shard: the last stream entry id written to SQL
    staff_users      back-office people (wallet/operator/staff.py)
    api_keys         named keys of systems calling the operator API
    audit_log        one append-only row per state-changing action (wallet/operator/audit.py)
    ledger_quarantine  ledger entries SQL refused, set aside so the rest flows (wallet/ledger/quarantine.py)

The schema is created and changed by Alembic (wallet/ledger/migrations); these definitions are what
the code reads and writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

metadata = sa.MetaData()
_ID = sa.String(128)
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # sqlite autoincrement needs INTEGER

ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
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
    sa.Column("currency", sa.String(10), nullable=False),
    sa.Column("round", _ID, nullable=False),
    sa.Column("game", _ID, nullable=False),
    sa.Column("bonus", _ID, nullable=False, server_default=""),
    sa.UniqueConstraint("shard", "entry_id", name="uq_ledger_entries_shard_entry"),
    sa.Index("ix_ledger_entries_player_seq", "player", "seq"),
    sa.Index("ix_ledger_entries_day", "day"),
)

balances = sa.Table(
    "balances",
    metadata,
    sa.Column("player", _ID, primary_key=True),
    sa.Column("currency", sa.String(10), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("balance", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # decimals of the player's amounts, here and in ledger_entries (2: opened before per-currency units)
    sa.Column("unit", sa.SmallInteger, nullable=False, server_default="2"),
)

transactions = sa.Table(
    "transactions",
    metadata,
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
    sa.Column("pruned", sa.Boolean, nullable=False, default=False),
    sa.Index("ix_transactions_pruned_created", "pruned", "created_at"),
    sa.Index("ix_transactions_created", "created_at"),
)

cursors = sa.Table(
    "cursors",
    metadata,
    sa.Column("shard", sa.SmallInteger, primary_key=True),
    sa.Column("last_id", sa.String(32), nullable=False),
)

staff_users = sa.Table(
    "staff_users",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("totp_secret", sa.String(64)),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Raised by every change of the user and by sign-out: a session cookie of an older generation
    # is signed out at its next request (migration 0007).
    sa.Column("session_gen", sa.Integer, nullable=False, server_default="0"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hint", sa.String(16), nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

#: Each player's limits hash without its counters (lua/limits.lua journals it; JSON), for restore.
player_limits = sa.Table(
    "player_limits",
    metadata,
    sa.Column("player", _ID, primary_key=True),
    sa.Column("limits", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("actor_kind", sa.String(16), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("player", _ID),
    sa.Column("amount", sa.String(40)),
    sa.Column("currency", sa.String(10)),
    sa.Column("reason", sa.Text),
    sa.Column("detail", sa.Text),
    sa.Column("client", sa.String(64)),
    sa.Column("request_id", sa.String(200)),
    sa.Column("outcome", sa.String(32), nullable=False),
)


ledger_quarantine = sa.Table(
    "ledger_quarantine",
    metadata,
    sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    sa.Column("shard", sa.SmallInteger, nullable=False),
    sa.Column("entry_id", sa.String(32), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),  # when the entry was appended
    sa.Column("fields", sa.Text, nullable=False),  # the entry as JSON, ASCII only (\u0000 escaped)
    sa.Column("error", sa.Text, nullable=False),  # why SQL refused it, ASCII only
    sa.Column("set_aside_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("shard", "entry_id"),
)


def normalise_url(url: str) -> str:
    """SQLAlchemy URL for ``url``: the PaaS's postgres:// becomes postgresql+psycopg://."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def connect(url: str) -> Engine:
    """An engine for ``url`` (no connection is opened until one is needed)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        return sa.create_engine(url, connect_args={"timeout": 30})
    # A web worker runs 16 threads: one waits at most 5 s for a pooled connection or a new one
    # (then the request answers 503 database_unavailable) instead of hanging on a stuck database.
    return sa.create_engine(
        url, pool_pre_ping=True, pool_size=2, max_overflow=2, pool_timeout=5, connect_args={"connect_timeout": 5}
    )


def upsert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]], keys: list[str], update: list[str]) -> None:
    """Insert ``rows``, or update the ``update`` columns of rows whose ``keys`` already exist."""
    if not rows:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table)
    excluded = statement.excluded
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_={c: excluded[c] for c in update}), rows)


def migrate(engine: Engine) -> None:
    """Bring the schema up to date (Alembic upgrade head), in one transaction."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
