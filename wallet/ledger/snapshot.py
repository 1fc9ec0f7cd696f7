"""The snapshot job: drain the Redis ledger streams into SQL exactly once, then trim them.

One batch = read up to ``count`` entries past each shard's cursor, write their rows and the new
cursors in ONE SQL transaction, commit, and only then trim the streams. A crash before the
commit leaves SQL untouched (the entries are read again); a crash after it leaves entries that
the cursor already skips. Either way every entry is written to SQL exactly once.

No entry stops the others: when SQL refuses a batch (for anything but being unreachable), it is
written again one entry at a time and an entry still refused is set aside in the quarantine
(wallet/ledger/quarantine.py), in the same transaction that moves the cursor past it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from wallet.core.store import Store
from wallet.errors import StoreUnavailable
from wallet.ledger import quarantine
from wallet.ledger.db import audit_log, balances, cursors, ledger_entries, player_limits, transactions, upsert

log = logging.getLogger("wallet.snapshot")

PRUNE_SECONDS = 60.0  # records past the retention leave Redis within about this long (sooner for short ones)
MONEY_KINDS = frozenset({"bet", "win", "betwin", "rollback", "cancel", "deposit", "withdrawal", "adjustment"})
REVERSALS = frozenset({"rollback", "cancel"})


@dataclass
class Batch:
    """What one drain pass read and wrote."""

    entries: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    money_rows: int = 0
    oldest_ms: int | None = None

    @property
    def lag_seconds(self) -> float:
        """Age of the oldest entry this batch drained (0 when it drained nothing)."""
        return 0.0 if self.oldest_ms is None else max(0.0, time.time() - self.oldest_ms / 1000)


def entry_time(entry_id: str) -> datetime:
    """The UTC time a stream entry was appended (its id starts with unix milliseconds)."""
    return datetime.fromtimestamp(int(entry_id.split("-", 1)[0]) / 1000, tz=UTC)


def next_id(entry_id: str) -> str:
    """The smallest stream id after ``entry_id`` (XTRIM MINID keeps ids >= it)."""
    ms, seq = entry_id.split("-", 1)
    return f"{ms}-{int(seq) + 1}"


def read_cursors(conn: Connection) -> dict[int, str]:
    rows = conn.execute(sa.select(cursors.c.shard, cursors.c.last_id)).all()
    return {shard: last for shard, last in rows}


def drain_once(
    store: Store, engine: Engine, count: int = 1000, before_commit: Any = None, before_trim: Any = None
) -> Batch:
    """One batch. ``before_commit``/``before_trim``: callables run at those points (tests use them
    to kill the process there)."""
    with engine.connect() as conn:
        positions = read_cursors(conn)
    batch = _read(store, positions, count)
    if not batch.entries:
        _report(store, engine, 0)  # the health page and /metrics show the worker is alive
        return batch
    try:
        _commit(engine, batch, write, before_commit)
    except quarantine.UNAVAILABLE:
        raise
    except Exception as exc:  # SQL (or the mapping) refuses something in the batch: find what
        log.warning("snapshot: batch of %d entries refused (%s); writing one at a time", len(batch.entries), exc)
        _commit(engine, batch, _write_each, before_commit)
    if before_trim:
        before_trim()
    _trim(store, _last_ids(batch))
    _report(store, engine, len(batch.entries))
    return batch


def _commit(engine: Engine, batch: Batch, writer: Any, before_commit: Any) -> None:
    """The batch's rows (by ``writer``) and the shards' new cursors, in one SQL transaction."""
    with engine.begin() as conn:
        writer(conn, batch)
        last = _last_ids(batch)
        upsert(conn, cursors, [{"shard": s, "last_id": i} for s, i in last.items()], ["shard"], ["last_id"])
        if before_commit:
            before_commit()


def _write_each(conn: Connection, batch: Batch) -> None:
    """Each entry in its own savepoint; one SQL still refuses is set aside in the quarantine."""
    batch.money_rows = 0
    for shard, entry_id, fields in batch.entries:
        one = Batch([(shard, entry_id, fields)])
        try:
            with conn.begin_nested():
                write(conn, one)
        except quarantine.UNAVAILABLE:
            raise
        except Exception as exc:  # this entry is refused: keep it aside, let the rest flow
            quarantine.set_aside(conn, shard, entry_id, entry_time(entry_id), fields, exc)
        batch.money_rows += one.money_rows


def _report(store: Store, engine: Engine, entries: int) -> None:
    store.record_snapshot(entries, quarantine.count(engine))


def _read(store: Store, positions: dict[int, str], count: int) -> Batch:
    batch = Batch()
    for shard, entries in enumerate(store.read_ledgers(positions, count)):
        for entry_id, fields in entries:
            batch.entries.append((shard, entry_id, fields))
            ms = int(entry_id.split("-", 1)[0])
            batch.oldest_ms = ms if batch.oldest_ms is None else min(batch.oldest_ms, ms)
    return batch


def _last_ids(batch: Batch) -> dict[int, str]:
    return {shard: entry_id for shard, entry_id, _ in batch.entries}  # entries are in stream order


def _trim(store: Store, last: dict[int, str]) -> None:
    store.trim_ledgers({shard: next_id(entry_id) for shard, entry_id in last.items()})


def write(conn: Connection, batch: Batch, late: bool = False) -> None:
    """All rows of a batch, inside the caller's SQL transaction. ``late``: entries written after
    newer ones (a quarantine retry), which set a player's row only when SQL has none yet."""
    records: dict[tuple[str, str, str], dict[str, Any]] = {}
    players: dict[str, dict[str, Any]] = {}
    ledger: list[dict[str, Any]] = []
    for shard, entry_id, e in batch.entries:
        at = entry_time(entry_id)
        _player_row(players, e, at)
        if e["kind"] == "marker":
            _record(records, e, at, state=e["state"], outcome=e["outcome"] or None, fingerprint=e["fp"] or None)
            continue
        if e["kind"] not in MONEY_KINDS:
            continue
        ledger.append(_ledger_row(conn, records, shard, entry_id, e, at))
        if e.get("target", ""):
            _reverse_target(conn, records, e, entry_id, at)
        if e["tx"]:
            _record(records, e, at, **_money_record(e, entry_id))
    limits = {
        e["player"]: {"player": e["player"], "limits": e["limits"], "updated_at": entry_time(entry_id)}
        for _, entry_id, e in batch.entries
        if e["kind"] == "limits"
    }  # the latest change of each player
    upsert(conn, player_limits, list(limits.values()), ["player"], ["limits", "updated_at"])
    batch.money_rows = len(ledger)
    if ledger:
        conn.execute(sa.insert(ledger_entries), ledger)
    audited = [_audit_row(shard, entry_id, e) for shard, entry_id, e in batch.entries if e.get("audit")]
    if audited:
        conn.execute(sa.insert(audit_log), audited)
    record_columns = [c.name for c in transactions.c if c.name not in ("provider", "player", "tx")]
    upsert(conn, transactions, list(records.values()), ["provider", "player", "tx"], record_columns)
    if late:
        known = set(conn.execute(sa.select(balances.c.player).where(balances.c.player.in_(players))).scalars())
        players = {p: row for p, row in players.items() if p not in known}
    _write_players(conn, players)


def _audit_row(shard: int, entry_id: str, e: dict[str, str]) -> dict[str, Any]:
    """The audit row a cashier movement journalled (wallet/operator/audit.py pending), timed at the
    movement and naming the transaction it made."""
    row = json.loads(e["audit"])
    detail = ", ".join(filter(None, [row.pop("detail", None), f"transaction {shard}-{entry_id}"]))
    return {**row, "at": entry_time(entry_id), "detail": detail, "outcome": "ok"}


def _money_record(e: dict[str, str], entry_id: str) -> dict[str, Any]:
    reversal = e["kind"] in REVERSALS
    return {
        "state": "X" if reversal else "A",
        "outcome": "OK" if reversal else None,
        "delta": int(e["amount"]),
        "fingerprint": e["fp"],
        "entry_id": entry_id,
        "balance_after": int(e["balance"]),
        "target": e.get("target", "") or None,
        "round": e.get("round"),
        "game": e.get("game"),
    }


def _record(
    records: dict[tuple[str, str, str], dict[str, Any]], e: dict[str, str], at: datetime, **values: Any
) -> None:
    key = (e["provider"], e["player"], e["tx"])
    row = records.get(key) or {"provider": key[0], "player": key[1], "tx": key[2], "kind": e["kind"], "created_at": at}
    row.update(
        {
            c: None
            for c in (
                "delta",
                "fingerprint",
                "entry_id",
                "balance_after",
                "round",
                "game",
                "outcome",
                "target",
                "rolled_back_by",
            )
            if c not in row
        }
    )
    row.update(values, kind=e["kind"] if e["kind"] != "marker" else row["kind"], pruned=False)
    records[key] = row


def _reverse_target(
    conn: Connection,
    records: dict[tuple[str, str, str], dict[str, Any]],
    e: dict[str, str],
    entry_id: str,
    at: datetime,
) -> None:
    key = (e["provider"], e["player"], e.get("target", ""))
    if key not in records:
        row = (
            conn.execute(
                sa.select(transactions).where(
                    transactions.c.provider == key[0], transactions.c.player == key[1], transactions.c.tx == key[2]
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            log.warning("reversal %s of %s/%s/%s whose original is not in SQL", entry_id, *key)
            return
        records[key] = dict(row)
    records[key].update(state="R", rolled_back_by=entry_id, pruned=False)  # back in Redis in full


def _ledger_row(
    conn: Connection,
    records: dict[tuple[str, str, str], dict[str, Any]],
    shard: int,
    entry_id: str,
    e: dict[str, str],
    at: datetime,
) -> dict[str, Any]:
    round_id, game = e.get("round", ""), e.get("game", "")
    if e.get("target", "") and not game:  # a reversal is reported under the game of what it reverses
        original = records.get((e["provider"], e["player"], e.get("target", ""))) or _stored(conn, e)
        if original:
            round_id, game = round_id or original["round"] or "", original["game"] or ""
    return {
        "shard": shard,
        "entry_id": entry_id,
        "at": at,
        "day": at.date(),
        "provider": e["provider"],
        "player": e["player"],
        "tx": e["tx"],
        "target": e.get("target", ""),
        "kind": e["kind"],
        "amount": int(e["amount"]),
        "bet": int(e.get("bet", 0)),
        "win": int(e.get("win", 0)),
        "balance_after": int(e["balance"]),
        "currency": e["currency"],
        "round": round_id,
        "game": game,
        "bonus": e.get("bonus", ""),
    }


def _stored(conn: Connection, e: dict[str, str]) -> Any:
    query = sa.select(transactions.c.round, transactions.c.game).where(
        transactions.c.provider == e["provider"],
        transactions.c.player == e["player"],
        transactions.c.tx == e.get("target", ""),
    )
    return conn.execute(query).mappings().first()


def _player_row(players: dict[str, dict[str, Any]], e: dict[str, str], at: datetime) -> None:
    if "balance" not in e:  # markers move no money
        return
    row = players.setdefault(e["player"], {"player": e["player"]})
    row.update(balance=int(e["balance"]), currency=e["currency"], updated_at=at)
    if "status" in e:
        row["status"] = e["status"]
    if "unit" in e:  # the opening entry: the unit the player's amounts are kept in, for good
        row["unit"] = int(e["unit"])


def _write_players(conn: Connection, players: dict[str, dict[str, Any]]) -> None:
    """Upsert the players' rows; a row takes only the fields its entries carried (an insert without
    a status is active; without a unit, hundredths: a player opened by an earlier version)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in players.values():
        fields = tuple(sorted(set(row) - {"player"}))
        groups.setdefault(fields, []).append(row)
    for fields, rows in groups.items():
        if "status" not in fields:
            rows = [{**r, "status": "active"} for r in rows]
        upsert(conn, balances, rows, ["player"], list(fields))


def run(
    store: Store, engine: Engine, every: float, retention: Any, stop: Any, count: int = 1000, watch: Any = None
) -> None:
    """Drain every ``every`` seconds until ``stop`` (a threading.Event) is set; move records past
    ``retention`` out of Redis every PRUNE_SECONDS; re-read the eviction policy (``watch``).

    One worker at a time holds the lease (lua/lease.lua); another waits, and takes over within
    the lease's lifetime when the holder stops or dies. A full batch is followed at once by the
    next (catching up); SQL or Redis being down is logged and retried at the next tick, and
    nothing is trimmed that SQL has not committed.
    """
    # The lease outlives one loop (a drain, up to 20 s of pruning, the tick) with room to spare.
    token, lifetime_ms = uuid.uuid4().hex, int(max(60.0, 3 * every) * 1000)
    prune_every = min(PRUNE_SECONDS, max(5.0, retention.total_seconds() / 4))
    waiting, last_prune = False, float("-inf")
    while not stop.is_set():
        full = False
        try:
            if watch is not None:
                watch.problem()  # logs when the policy turns unsafe
            if not store.lease(token, lifetime_ms):
                if not waiting:
                    log.info("snapshot: another worker holds the lease; waiting for its turn")
                waiting = True
                stop.wait(every)
                continue
            if waiting:
                log.info("snapshot: lease taken; draining")
                waiting = False
            full = _drain_logged(store, engine, count)
            if time.monotonic() - last_prune >= prune_every:
                last_prune = time.monotonic()
                _prune_logged(store, engine, retention)
        except sa.exc.SQLAlchemyError as exc:
            log.warning("snapshot: SQL unavailable (%s); retrying in %s s", exc.__class__.__name__, every)
        except StoreUnavailable as exc:
            log.warning("snapshot: Redis unavailable (%s); retrying in %s s", exc, every)
        if not full:
            stop.wait(every)
    with contextlib.suppress(StoreUnavailable):  # else the lease expires on its own
        store.release(token)


def _drain_logged(store: Store, engine: Engine, count: int) -> bool:
    """One batch, logged; True when a shard had a full batch (more is waiting)."""
    started = time.monotonic()
    batch = drain_once(store, engine, count=count)
    if batch.entries:
        log.info(
            "snapshot: %d entries (%d balance changes) in %.0f ms, lag %.1f s",
            len(batch.entries),
            batch.money_rows,
            (time.monotonic() - started) * 1000,
            batch.lag_seconds,
        )
    per_shard: dict[int, int] = {}
    for shard, _, _ in batch.entries:
        per_shard[shard] = per_shard.get(shard, 0) + 1
    return any(n >= count for n in per_shard.values())


def _prune_logged(store: Store, engine: Engine, retention: Any) -> None:
    from wallet.ledger.archive import prune

    moved = prune(store, engine, retention)
    if moved:
        log.info("snapshot: %d transaction records past retention moved out of Redis", moved)
