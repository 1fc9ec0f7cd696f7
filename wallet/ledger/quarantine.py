"""Ledger entries that SQL refused, set aside so that every other entry keeps flowing.

The snapshot job writes a batch in one SQL transaction. When SQL refuses it for anything but
being unreachable (a value too long or holding NUL, a constraint, an entry the job cannot map),
the job writes the batch again one entry at a time, each in its own savepoint; an entry that
still fails is set aside here (its fields as ASCII-only JSON, the error, the time), logged as
one error line and counted (``wallet_ledger_quarantined``, alert ``WalletLedgerQuarantine``),
and the shard's cursor moves past it in the same transaction. Nothing is lost: the entry's money
is in Redis and in this table. ``wallet quarantine list`` shows them; once the cause is mended,
``wallet quarantine retry`` writes them to the ledger and removes them from here.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from wallet.fields import ascii_text
from wallet.ledger.db import ledger_quarantine

log = logging.getLogger("wallet.snapshot")

#: SQL failures that mean "not now" (unreachable, timed out, pool exhausted): the batch is tried
#: again whole at the next tick and nothing is set aside. Anything else is the data being refused.
UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, sa.exc.DisconnectionError)
ERROR_CHARS = 1000  # of the error text kept


def set_aside(conn: Connection, shard: int, entry_id: str, at: datetime, fields: dict[str, str], error: Any) -> None:
    """Keep an entry SQL refused (inside the caller's transaction, which also moves the cursor)."""
    why = ascii_text(f"{error.__class__.__name__}: {error}", ERROR_CHARS)
    conn.execute(
        ledger_quarantine.insert().values(
            shard=shard,
            entry_id=entry_id,
            at=at,
            fields=json.dumps(fields, ensure_ascii=True, sort_keys=True),
            error=why,
            set_aside_at=datetime.now(UTC),
        )
    )
    log.error("snapshot: ledger entry %s of shard %d set aside in quarantine: %s", entry_id, shard, why)


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(ledger_quarantine)).scalar_one())


def rows(conn: Connection) -> list[dict[str, Any]]:
    """Every entry set aside, oldest first, its fields decoded."""
    found = conn.execute(sa.select(ledger_quarantine).order_by(ledger_quarantine.c.id)).mappings().all()
    return [{**row, "fields": json.loads(row["fields"])} for row in found]


def retry(engine: Engine, ids: list[int] | None = None) -> list[tuple[int, str | None]]:
    """Write entries set aside to the ledger (all, or those in ``ids``), each in its own savepoint;
    one that SQL takes leaves the quarantine. Returns (id, error or None) for each one tried."""
    from wallet.ledger.snapshot import Batch, write

    tried: list[tuple[int, str | None]] = []
    with engine.begin() as conn:
        for row in rows(conn):
            if ids and row["id"] not in ids:
                continue
            try:
                with conn.begin_nested():
                    write(conn, Batch([(row["shard"], row["entry_id"], row["fields"])]), late=True)
                    conn.execute(ledger_quarantine.delete().where(ledger_quarantine.c.id == row["id"]))
            except UNAVAILABLE:
                raise
            except Exception as exc:  # the entry is still refused: it stays set aside
                tried.append((row["id"], ascii_text(f"{exc.__class__.__name__}: {exc}", ERROR_CHARS)))
            else:
                tried.append((row["id"], None))
    return tried
