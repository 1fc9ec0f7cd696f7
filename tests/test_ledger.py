"""The ledger stream: one entry per balance change, in the player's shard, summing to the balance."""

from __future__ import annotations

import redis
from flask import Flask
from redis.crc import key_slot

from tests.conftest import Operator, Provider, money_entries
from wallet.core.store import shard_of


def _entries(app: Flask, redis_client: redis.Redis, player: str) -> list[dict[str, str]]:
    return money_entries(app, redis_client, player)


def test_entries_match_balance_changes(
    app: Flask, redis_client: redis.Redis, operator: Operator, gsp: Provider
) -> None:
    """Every applied change has exactly one entry with its signed amount and the balance after it."""
    operator.create("p1", balance="100.00")
    gsp.withdraw("p1", "10.00", "t1")
    gsp.withdraw("p1", "10.00", "t1")  # duplicate: no entry
    gsp.withdraw("p1", "1000.00", "t2")  # insufficient: no entry
    gsp.deposit("p1", "2.50", "w1")
    gsp.bet_win("p1", "5.00", "1.00", "bw1")
    gsp.withdraw("p1", "0.00", "t0")  # zero amount: recorded
    gsp.rollback("p1", "t1")
    gsp.rollback("p1", "t1")  # repeat: no entry
    gsp.rollback("p1", "unknown")  # never applied: no entry
    entries = _entries(app, redis_client, "p1")
    assert [(e["provider"], e["kind"], e["amount"], e["balance"]) for e in entries] == [
        ("cashier", "deposit", "10000", "10000"),
        ("gitslotpark", "bet", "-1000", "9000"),
        ("gitslotpark", "win", "250", "9250"),
        ("gitslotpark", "betwin", "-400", "8850"),
        ("gitslotpark", "bet", "0", "8850"),
        ("gitslotpark", "rollback", "1000", "9850"),
    ]
    assert (entries[-1]["target"], entries[-1]["tx"]) == ("t1", "")
    assert {e["currency"] for e in entries} == {"EUR"}


def test_ledger_sums_to_balance(app: Flask, redis_client: redis.Redis, operator: Operator, gsp: Provider) -> None:
    """The sum of a player's ledger amounts equals their balance, negative balances included."""
    operator.create("p1", balance="20.00")
    gsp.deposit("p1", "30.00", "w1")
    gsp.withdraw("p1", "45.00", "t1")
    gsp.rollback("p1", "w1")
    operator.deposit("p1", "1.23", key="k2")
    total = sum(int(e["amount"]) for e in _entries(app, redis_client, "p1"))
    assert total == -2377
    assert gsp.balance("p1")["balance"] == -23.77


def test_references_are_ledger_entries(
    app: Flask, redis_client: redis.Redis, operator: Operator, gsp: Provider
) -> None:
    """The transactionID we answer is '<shard>-<ledger entry id>' of the entry that applied it."""
    operator.create("p1", balance="20.00")
    reference = gsp.withdraw("p1", "5.00", "t1")["transactionID"]
    shard, entry_id = reference.split("-", 1)
    assert int(shard) == shard_of("p1")
    key = app.extensions["wallet"].store.keys("p1").ledger
    assert redis_client.xrange(key, entry_id, entry_id)[0][1]["tx"] == "t1"


def test_journal_records_account_events_and_markers(
    app: Flask, redis_client: redis.Redis, operator: Operator, gsp: Provider
) -> None:
    """Player creation, status changes and cancelled-before-arrival markers are journaled too."""
    operator.create("p1")
    operator.status("p1", "blocked")
    gsp.rollback("p1", "never-seen")
    key = app.extensions["wallet"].store.keys("p1").ledger
    events = [(e["kind"], e.get("status") or e.get("state")) for _, e in redis_client.xrange(key)]
    assert events == [("open", "active"), ("status", "blocked"), ("marker", "C")]


def test_all_player_keys_in_one_slot(
    app: Flask, redis_client: redis.Redis, operator: Operator, gsp: Provider, prefix: str
) -> None:
    """Account, transaction hashes and ledger of a player share one Redis Cluster slot (the sign's
    claim lives with the sign's bucket instead: wallet/core/signs.py)."""
    operator.create("p1", balance="20.00")
    gsp.withdraw("p1", "5.00", "t1")
    player = app.extensions["wallet"].store.keys("p1")
    keys = [player.account, player.txs("gitslotpark"), player.txs("cashier"), player.ledger]
    assert redis_client.exists(*keys) == 4
    assert len({key_slot(k.encode()) for k in keys}) == 1
