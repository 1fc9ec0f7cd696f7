"""Recovery and reconciliation: rebuild Redis from SQL after a Redis loss, and check they agree.

restore: balances, players and transaction records go back into an empty Redis: records within
the retention in full, older ones (within the aged-id horizon) into the aged-id filter.
Players' limits and exclusions come back from player_limits, and the current periods' loss and
deposit counters are summed again from the ledger (wallet/core/limits.py). Sessions and round
indexes are not restored (players sign in again; a cancel by round of a bet placed before the
loss is answered as unknown).
check: for every player, Redis balance = SQL snapshot + entries not yet drained = sum of the
player's ledger.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from wallet.core import limits
from wallet.core.records import compact
from wallet.core.store import Store, shard_of
from wallet.core.wallet import UTC_ZONE
from wallet.ledger.archive import rotate, utc
from wallet.ledger.db import balances, ledger_entries, player_limits, transactions
from wallet.ledger.db import ledger_entries as le
from wallet.ledger.snapshot import read_cursors

Progress = Callable[[int], None]


class NotEmpty(Exception):
    """Redis already holds wallet keys; restoring over them needs --force."""


def restore(
    store: Store,
    engine: Engine,
    retention: timedelta,
    force: bool = False,
    progress: Progress = lambda n: None,
    horizon: timedelta = timedelta(days=30),
    zone: ZoneInfo = UTC_ZONE,
) -> tuple[int, int]:
    """Write SQL's players and transaction records into Redis; returns (players, records)."""
    if not force and store.has_keys():
        raise NotEmpty(f"Redis already holds keys under {store.prefix}:")
    now = datetime.fromtimestamp(store.clock(), UTC)
    cutoff, forgotten = now - retention, now - retention - horizon
    with engine.connect() as conn:
        players = _batches(conn.execute(sa.select(balances)).mappings(), 1000)
        player_count = 0
        for rows in players:
            store.write_accounts([(r["player"], r["balance"], r["currency"], r["status"], r["unit"]) for r in rows])
            player_count += len(rows)
            progress(len(rows))
        _restore_limits(conn, store, zone)
        record_count = 0
        for rows in _batches(conn.execute(sa.select(transactions)).mappings(), 1000):
            live = [r for r in rows if not r["pruned"] and utc(r["created_at"]) >= cutoff]
            store.write_records([(r["provider"], r["player"], r["tx"], compact(r)) for r in live])
            _age([r for r in rows if r not in live and utc(r["created_at"]) >= forgotten], store, engine)
            record_count += len(rows)
            progress(len(rows))
    return player_count, record_count


def _restore_limits(conn: sa.Connection, store: Store, zone: ZoneInfo) -> None:
    """Each player's limits as last journalled, with the current periods' counters summed from the
    ledger: net loss = minus the sum of the player's game entries (bets, wins, reversals),
    deposits = the sum of their cashier deposits."""
    now = store.clock()
    for rows in _batches(conn.execute(sa.select(player_limits)).mappings(), 1000):
        found = [(r["player"], {**json.loads(r["limits"]), **counters(conn, r["player"], now, zone)}) for r in rows]
        store.write_limits(found)


def counters(conn: sa.Connection, player: str, now: float, zone: ZoneInfo) -> dict[str, str]:
    """The player's loss and deposit counters of the current periods, summed from SQL's ledger, as
    the limits hash holds them ('used:loss:day' -> '<period id>|<amount>')."""
    found = {}
    for period, (period_id, start) in zip(limits.PERIODS, limits.period_starts(now, zone), strict=True):
        mine, since = le.c.player == player, le.c.at >= start
        loss = sa.select(sa.func.coalesce(sa.func.sum(-le.c.amount), 0)).where(mine, since, le.c.provider != "cashier")
        deposit = sa.select(sa.func.coalesce(sa.func.sum(le.c.amount), 0)).where(mine, since, le.c.kind == "deposit")
        found[f"used:loss:{period}"] = f"{period_id}|{conn.execute(loss).scalar_one()}"
        found[f"used:deposit:{period}"] = f"{period_id}|{conn.execute(deposit).scalar_one()}"
    return found


def _age(rows: list[Any], store: Store, engine: Engine) -> None:
    """Put the ids of aged records into the aged-id filter (their records stay in SQL only)."""
    by_hash: dict[tuple[str, str], list[tuple[str, str, bool]]] = {}
    for r in rows:
        by_hash.setdefault((r["provider"], r["player"]), []).append((r["tx"], r["state"], True))
    into = rotate(store, engine) if by_hash else None
    for (provider, player), items in by_hash.items():
        store.age(provider, player, items, into)  # type: ignore[arg-type]


def count_rows(engine: Engine) -> int:
    """Players plus transaction records: the work restore() reports progress on."""
    with engine.connect() as conn:
        return sum(
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in (balances, transactions)
        )


def _batches(rows: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True)
class Mismatch:
    """A player whose Redis balance, SQL snapshot and ledger disagree (minor units)."""

    player: str
    redis: int | None
    snapshot: int
    undrained: int
    ledger: int


def check(store: Store, engine: Engine, attempts: int = 3) -> tuple[int, list[Mismatch]]:
    """(players checked, mismatches). A mismatch is re-checked ``attempts`` times, so that an
    entry drained between the SQL and the Redis reads is not reported."""
    players, mismatches = 0, []
    suspects = None
    for _ in range(attempts):
        found = _check_once(store, engine, suspects)
        players = max(players, found[0])
        mismatches = found[1]
        if not mismatches:
            break
        suspects = {m.player for m in mismatches}
    return players, mismatches


def _check_once(store: Store, engine: Engine, only: set[str] | None) -> tuple[int, list[Mismatch]]:
    with engine.connect() as conn:
        positions = read_cursors(conn)
        snapshot = dict(conn.execute(sa.select(balances.c.player, balances.c.balance)).all())
        sums = sa.select(ledger_entries.c.player, sa.func.sum(ledger_entries.c.amount)).group_by(
            ledger_entries.c.player
        )
        ledger = {p: int(total) for p, total in conn.execute(sums).all()}
    players = (set(snapshot) | store.players()) if only is None else only
    live = store.balances_and_undrained(sorted(players, key=shard_of), positions)
    mismatches = []
    for player in sorted(players):
        redis_balance, undrained = live.get(player, (None, 0))
        expected = snapshot.get(player, 0)  # accounts open at 0: no snapshot yet means 0
        ledger_total = ledger.get(player, 0) + undrained
        if redis_balance is None or not redis_balance == expected + undrained == ledger_total:
            mismatches.append(Mismatch(player, redis_balance, expected, undrained, ledger_total))
    return len(players), mismatches
