"""The snapshot job: ledger streams drained into SQL exactly once, cursors, trimming, markers, statuses."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Engine

from tests.conftest import Ace, Operator, Provider
from wallet.core.store import shard_of
from wallet.ledger import db
from wallet.ledger.snapshot import drain_once


def _store(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["wallet"].store


def _rows(engine: Engine, table: sa.Table, *order: str) -> list[dict[str, object]]:
    with engine.connect() as conn:
        query = sa.select(table).order_by(*(table.c[o] for o in order))
        return [dict(r) for r in conn.execute(query).mappings()]


def test_drain_writes_entries_balances_and_records(
    app: Flask, engine: Engine, operator: Operator, gsp: Provider
) -> None:
    """Every balance change becomes one ledger row; balances and transaction records follow."""
    operator.create("p1", balance="100.00")
    gsp.withdraw("p1", "10.00", "t1", round_id="r1")
    gsp.deposit("p1", "25.00", "w1", round_id="r1")
    gsp.rollback("p1", "t1")
    batch = drain_once(_store(app), engine)
    assert batch.money_rows == 4
    ledger = _rows(engine, db.ledger_entries, "seq")
    assert [(r["provider"], r["kind"], r["amount"], r["balance_after"]) for r in ledger] == [
        ("cashier", "deposit", 10000, 10000),
        ("gitslotpark", "bet", -1000, 9000),
        ("gitslotpark", "win", 2500, 11500),
        ("gitslotpark", "rollback", 1000, 12500),
    ]
    assert (ledger[3]["target"], ledger[3]["round"]) == ("t1", "r1")
    assert _rows(engine, db.balances, "player")[0] | {"updated_at": None} == {
        "player": "p1",
        "currency": "EUR",
        "status": "active",
        "balance": 12500,
        "updated_at": None,
        "unit": 2,
    }
    records = {r["tx"]: r for r in _rows(engine, db.transactions, "tx")}
    assert (records["t1"]["state"], records["t1"]["rolled_back_by"]) == ("R", ledger[3]["entry_id"])
    assert (records["w1"]["state"], records["w1"]["delta"]) == ("A", 2500)


def test_cursor_and_trim(app: Flask, engine: Engine, operator: Operator, gsp: Provider) -> None:
    """After a batch the stream is trimmed up to the cursor; the next batch takes only new entries."""
    operator.create("p1", balance="100.00")
    drain_once(_store(app), engine)
    key = _store(app).keys("p1").ledger
    assert _store(app).client.xlen(key) == 0
    gsp.withdraw("p1", "1.00", "t1")
    batch = drain_once(_store(app), engine)
    # the bet, and the marker of its sign's claim, journalled on the claim's bucket's shard
    kinds = {shard: e["kind"] for shard, _, e in batch.entries}
    assert kinds[shard_of("p1")] == "bet" and sorted(kinds.values()) == ["bet", "marker"]
    assert drain_once(_store(app), engine).entries == []
    assert len(_rows(engine, db.ledger_entries, "seq")) == 2
    cursor = _rows(engine, db.cursors, "shard")
    assert sorted(c["shard"] for c in cursor) == sorted(kinds)


def test_status_and_markers_reach_sql(app: Flask, engine: Engine, operator: Operator, gsp: Provider, ace: Ace) -> None:
    """Blocks, cancelled-before-arrival markers and failed cancels are kept in SQL for restore."""
    operator.create("p1", balance="10.00")
    operator.status("p1", "blocked")
    gsp.rollback("p1", "late")
    ace.cancel("p1", 99, reference=5)
    drain_once(_store(app), engine)
    assert _rows(engine, db.balances, "player")[0]["status"] == "blocked"
    records = {(r["provider"], r["tx"]): r for r in _rows(engine, db.transactions, "tx")}
    assert records[("gitslotpark", "late")]["state"] == "C"
    assert records[("igamingace", "5")]["state"] == "C"
    cancel = records[("igamingace", "99")]
    assert (cancel["state"], cancel["outcome"]) == ("X", "NOT_FOUND")


def test_large_backlog_in_batches(app: Flask, engine: Engine, operator: Operator, gsp: Provider) -> None:
    """A backlog larger than one batch drains completely over several batches, once each."""
    operator.create("p1", balance="100.00")
    for i in range(25):
        gsp.withdraw("p1", "1.00", f"t{i}")
    batches, kinds = 0, Counter[str]()
    while batch := drain_once(_store(app), engine, count=10).entries:
        batches += 1
        assert max(Counter(shard for shard, _, _ in batch).values()) <= 10  # at most 10 a shard a batch
        kinds.update(e["kind"] for _, _, e in batch)
    assert batches == 3  # p1's shard: open + deposit + 25 bets (and maybe some of the claims)
    assert (kinds["bet"], kinds["marker"]) == (25, 25)  # each bet and its sign's claim, once
    assert sum(r["amount"] for r in _rows(engine, db.ledger_entries, "seq")) == 7500


def test_entries_of_the_previous_format_still_drain(
    app: Flask, engine: Engine, operator: Operator, gsp: Provider
) -> None:
    """A stream entry written before the metadata was pre-joined (one field per value, as an
    upgrade finds it in Redis) reaches SQL exactly like a new one, and reconciliation counts it."""
    operator.create("p1", balance="100.00")
    gsp.withdraw("p1", "10.00", "t-new", round_id="r1")
    store = _store(app)
    key = store.keys("p1").ledger
    new = store.client.xrange(key)[-1][1]
    assert "meta" in new and "player" not in new  # today's format
    old = {k: v for k, v in new.items() if k != "meta"} | {"tx": "t-old"}
    old |= {"provider": "gitslotpark", "player": "p1", "round": "r1", "bet": "1000", "win": "0"}
    store.client.xadd(key, old)
    assert store.balances_and_undrained(["p1"], {})["p1"][1] == 10000 - 1000 - 1000
    drain_once(store, engine)
    rows = {r["tx"]: r for r in _rows(engine, db.ledger_entries, "seq")}
    for tx in ("t-new", "t-old"):
        assert (rows[tx]["provider"], rows[tx]["player"], rows[tx]["round"], rows[tx]["bet"]) == (
            "gitslotpark",
            "p1",
            "r1",
            1000,
        )
