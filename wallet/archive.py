"""Transaction records that leave Redis: pruning them after their retention, and reading them back.

Records stay in Redis until SQL holds them and they are older than the retention; then a
tombstone replaces each (so a new id never needs SQL), and a late replay or rollback of a
pruned id brings its record back from SQL (Wallet._rehydrate) before being answered.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from wallet.db import transactions
from wallet.store import Store

_RECORD_KEYS = {
    "state": "s",
    "entry_id": "r",
    "delta": "d",
    "fingerprint": "f",
    "balance_after": "b",
    "kind": "k",
    "round": "rd",
    "target": "t",
    "outcome": "o",
    "rolled_back_by": "rb",
}


def record_json(row: Any) -> str:
    """The Redis record (lua/_shared.lua) of a ``transactions`` row."""
    record = {short: row[column] for column, short in _RECORD_KEYS.items() if row[column] is not None}
    for money in ("d", "b"):  # Lua keeps amounts as strings
        if money in record:
            record[money] = str(record[money])
    return json.dumps(record, separators=(",", ":"))


class SqlArchive:
    """The Wallet's archive: records of pruned transactions, read from SQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, provider: str, player: str, tx: str) -> str | None:
        query = sa.select(transactions).where(
            transactions.c.provider == provider, transactions.c.player == player, transactions.c.tx == tx
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else record_json(row)


def prune(store: Store, engine: Engine, retention: timedelta, limit: int = 5000) -> int:
    """Tombstone up to ``limit`` records older than ``retention`` that SQL holds; returns how many."""
    cutoff = datetime.now(UTC) - retention
    query = (
        sa.select(transactions.c.provider, transactions.c.player, transactions.c.tx, transactions.c.state)
        .where(transactions.c.pruned.is_(False), transactions.c.created_at < cutoff)
        .order_by(transactions.c.created_at)
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    by_hash: dict[tuple[str, str], list[str]] = defaultdict(list)
    for provider, player, tx, state in rows:
        by_hash[(provider, player)] += [tx, state]
    done = 0
    for (provider, player), pairs in by_hash.items():
        pruned = store.run("prune", [store.keys(player).txs(provider)], pairs)
        if pruned:
            _mark_pruned(engine, provider, player, pruned)
            done += len(pruned)
    return done


def _mark_pruned(engine: Engine, provider: str, player: str, txs: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(transactions)
            .where(
                transactions.c.provider == provider,
                transactions.c.player == player,
                transactions.c.tx.in_(txs),
            )
            .values(pruned=True)
        )
