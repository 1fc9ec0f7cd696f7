"""Transaction records that leave Redis: moving them out after the retention, and reading them back.

Records stay in Redis until SQL holds them and they are older than the retention; then each
leaves the tx hash and its id goes into the aged-id filter (wallet/aged.py), so a new id never
needs SQL while a late replay or rollback of an aged id brings its record back from SQL
(Wallet._rehydrate) before being answered. A record brought back is marked unpruned in SQL,
so the next pass moves it out again.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from wallet import aged
from wallet.db import transactions
from wallet.records import compact
from wallet.store import SHARDS, Store


class SqlArchive:
    """The Wallet's archive: records of aged transactions, read from SQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, provider: str, player: str, tx: str) -> str | None:
        """The compact record of ``tx``, or None; marked unpruned, as it is about to be in Redis again."""
        where = (transactions.c.provider == provider, transactions.c.player == player, transactions.c.tx == tx)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(transactions).where(*where)).mappings().first()
            if row is not None and row["pruned"]:
                conn.execute(sa.update(transactions).where(*where).values(pruned=False))
        return None if row is None else compact(row)


def prune(store: Store, engine: Engine, retention: timedelta, limit: int = 5000, seconds: float = 20.0) -> int:
    """Move records older than ``retention`` that SQL holds out of Redis, in batches of ``limit``
    for up to ``seconds``; returns how many. Also drops aged-id generations past the horizon."""
    bits = generation_bits(engine, store)
    deadline, done = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        moved, selected = _prune_batch(
            store, engine, datetime.fromtimestamp(store.clock(), UTC) - retention, limit, bits
        )
        done += moved
        if selected < limit or not moved:  # all done, or only records changed since the last drain
            break
    store.drop_old_generations()
    return done


def generation_bits(engine: Engine, store: Store) -> int:
    """Bitmap size for a new aged-id generation: 1.5 x the last day's transactions over its period."""
    since = datetime.fromtimestamp(store.clock(), UTC) - timedelta(days=1)
    query = sa.select(sa.func.count()).select_from(transactions).where(transactions.c.created_at >= since)
    with engine.connect() as conn:
        per_day = conn.execute(query).scalar_one()
    return aged.generation_bits(int(per_day * 1.5 * store.period / 86400), SHARDS)


def _prune_batch(store: Store, engine: Engine, cutoff: datetime, limit: int, bits: int) -> tuple[int, int]:
    query = (
        sa.select(transactions.c.provider, transactions.c.player, transactions.c.tx, transactions.c.state)
        .where(transactions.c.pruned.is_(False), transactions.c.created_at < cutoff)
        .order_by(transactions.c.created_at)
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    by_hash: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for provider, player, tx, state in rows:
        by_hash[(provider, player)].append((tx, state))
    done = 0
    for (provider, player), items in by_hash.items():
        moved = store.age(provider, player, items, bits)
        if moved:
            _mark_pruned(engine, provider, player, moved)
            done += len(moved)
    return done, len(rows)


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
