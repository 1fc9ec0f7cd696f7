"""Transaction records that leave Redis: moving them out after the retention, and reading them back.

Records stay in Redis until SQL holds them and they are older than the retention; then each
leaves the tx hash and its id goes into the aged-id filter (wallet/core/aged.py), so a new id never
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

from wallet.core import aged
from wallet.core.records import compact
from wallet.core.store import SHARDS, Store
from wallet.ledger.db import transactions


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
    for up to ``seconds``; returns how many. Rotates the aged-id generations first."""
    deadline, done = time.monotonic() + seconds, 0
    cutoff = datetime.fromtimestamp(store.clock(), UTC) - retention
    while time.monotonic() < deadline:
        moved, selected = _prune_batch(store, engine, cutoff, limit, rotate(store, engine))
        done += moved
        if selected < limit or not moved:  # all done, or only records changed since the last drain
            break
    return done


#: Windows the daily rate is estimated from, with the factor that scales each to a day.
RATE_WINDOWS = ((timedelta(days=1), 1), (timedelta(hours=1), 24), (timedelta(minutes=5), 288))


def rotate(store: Store, engine: Engine) -> aged.Generation:
    """The generation to write aged ids into now: the current one, or a new one when it has held
    its plan or been open a third of the horizon; generations closed a horizon ago are dropped.
    The directory is published before anything is written into a new generation."""
    live, now = store.generations(), store.clock()
    current = live[0] if live else None
    period = store.horizon / 3
    if current is None or current.count >= current.planned or now - current.created >= period:
        planned = int(daily_rate(engine, now) * 1.5 * period / 86400)
        if current is not None and current.count >= current.planned:
            planned = max(planned, 2 * current.planned)  # traffic outgrew the plan: grow geometrically
        planned = aged.affordable(planned, store.headroom(), SHARDS)  # one allocation: sized from the room left
        if current is not None:
            current.closed = now
        current = aged.Generation((current.id + 1) if current else 1, aged.bits_for(planned, SHARDS), planned, now)
        live.insert(0, current)
        dropped = [g for g in live if g.closed is not None and now - g.closed >= store.horizon]
        store.save_generations([g for g in live if g not in dropped], dropped)
    return current


def daily_rate(engine: Engine, now: float) -> int:
    """Transactions per day, from the last day, hour or five minutes, whichever is highest."""
    at = datetime.fromtimestamp(now, UTC)
    with engine.connect() as conn:
        return max(
            factor
            * conn.execute(
                sa.select(sa.func.count()).select_from(transactions).where(transactions.c.created_at >= at - window)
            ).scalar_one()
            for window, factor in RATE_WINDOWS
        )


def _prune_batch(store: Store, engine: Engine, cutoff: datetime, limit: int, into: aged.Generation) -> tuple[int, int]:
    columns = (transactions.c.provider, transactions.c.player, transactions.c.tx, transactions.c.state)
    query = (
        sa.select(*columns, transactions.c.created_at)
        .where(transactions.c.pruned.is_(False), transactions.c.created_at < cutoff)
        .order_by(transactions.c.created_at)
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    forgotten = cutoff - timedelta(seconds=store.horizon)  # left Redis a horizon ago: not remembered
    by_hash: dict[tuple[str, str], list[tuple[str, str, bool]]] = defaultdict(list)
    for provider, player, tx, state, created in rows:
        by_hash[(provider, player)].append((tx, state, utc(created) >= forgotten))
    done = 0
    for (provider, player), items in by_hash.items():
        moved = store.age(provider, player, items, into)
        if moved:
            _mark_pruned(engine, provider, player, moved)
            done += len(moved)
    return done, len(rows)


def utc(at: datetime) -> datetime:
    """``at`` with its UTC zone (SQLite gives naive datetimes back)."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


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
