"""Redis lost and restored from SQL; retention pruning with answers from SQL; reconciliation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from click.testing import CliRunner
from flask import Flask
from sqlalchemy.engine import Engine

from tests.conftest import Ace, Operator, Provider
from wallet.cli import main
from wallet.ledger import recovery
from wallet.ledger.archive import prune
from wallet.ledger.snapshot import drain_once

RETENTION = timedelta(days=120)
#: Records the history leaves: two cashier deposits, the bet, the win, the early rollback's marker
#: and the iGamingAce bet; plus the four provider signs they were claimed with (wallet/core/signs.py).
RECORDS = 6 + 4


def _lose_redis(redis_client: redis.Redis, prefix: str) -> None:
    for key in redis_client.scan_iter(match=f"{prefix}:*"):
        redis_client.delete(key)


@pytest.fixture
def history(app: Flask, engine: Engine, operator: Operator, gsp: Provider, ace: Ace) -> dict[str, object]:
    """A small history on both providers, drained into SQL."""
    operator.create("p1", balance="100.00")
    operator.create("p2", balance="20.00")
    operator.status("p2", "blocked")
    operator.sign_in("p1")
    bet = gsp.withdraw("p1", "10.00", "t1")
    gsp.deposit("p1", "4.00", "w1")
    gsp.rollback("p1", "early")  # cancelled before arrival
    ace.bet("p1", "3.00", 7)
    drain_once(app.extensions["wallet"].store, engine)
    return {"bet": bet}


def test_restore_after_redis_loss(
    app: Flask,
    engine: Engine,
    redis_client: redis.Redis,
    prefix: str,
    history: dict[str, object],
    operator: Operator,
    gsp: Provider,
    ace: Ace,
) -> None:
    """After losing Redis and restoring: same balances and statuses, old replays are duplicates,
    old rollbacks work, the early cancel still refuses the late original, and check passes."""
    store = app.extensions["wallet"].store
    _lose_redis(redis_client, prefix)
    assert gsp.balance("p1")["result"] == 5
    assert recovery.restore(store, engine, RETENTION) == (2, RECORDS)
    assert operator.balance("p1") == "91.00" and operator.balance("p2") == "20.00"
    assert gsp.withdraw("p2", "1.00", "x")["result"] == 1  # still blocked
    replay = gsp.withdraw("p1", "10.00", "t1")
    assert (replay["result"], replay["transactionID"]) == (0, history["bet"]["transactionID"])  # type: ignore[index]
    assert gsp.withdraw("p1", "10.00", "early")["result"] == 9
    assert gsp.rollback("p1", "t1")["balance"] == 101.00
    assert gsp.rollback("p1", "t1")["result"] == 9
    operator.sign_in("p1")
    assert ace.bet("p1", "3.00", 7)["balance"] == 101.00  # duplicate, not applied again
    assert recovery.check(store, engine) == (2, [])


def test_restore_refuses_non_empty_redis(app: Flask, engine: Engine, history: dict[str, object]) -> None:
    """restore refuses to write over a Redis that still has wallet keys, unless forced."""
    store = app.extensions["wallet"].store
    with pytest.raises(recovery.NotEmpty):
        recovery.restore(store, engine, RETENTION)
    result = CliRunner().invoke(main, ["restore"], obj=app)
    assert result.exit_code == 1 and "--force" in result.output
    assert recovery.restore(store, engine, RETENTION, force=True) == (2, RECORDS)


def test_restore_cli_shows_progress(
    app: Flask, engine: Engine, redis_client: redis.Redis, prefix: str, history: dict[str, object]
) -> None:
    """`wallet restore` on an empty Redis restores and reports what it did."""
    _lose_redis(redis_client, prefix)
    result = CliRunner().invoke(main, ["restore"], obj=app)
    assert result.exit_code == 0, result.output
    assert f"restored 2 players and {RECORDS} transaction records" in result.output


def test_pruned_records_answered_from_sql(
    app: Flask, engine: Engine, redis_client: redis.Redis, history: dict[str, object], gsp: Provider, ace: Ace
) -> None:
    """Records past retention leave Redis for the aged-id filter; a late replay or rollback is answered
    from SQL, once, and the records brought back leave again at the next pass."""
    store = app.extensions["wallet"].store
    assert prune(store, engine, timedelta(0)) == RECORDS
    assert redis_client.hgetall(store.keys("p1").txs("gitslotpark")) == {}
    replay = gsp.withdraw("p1", "10.00", "t1")
    assert (replay["result"], replay["transactionID"]) == (0, history["bet"]["transactionID"])  # type: ignore[index]
    assert gsp.withdraw("p1", "10.00", "early")["result"] == 9
    assert gsp.rollback("p1", "w1")["balance"] == 87.00
    assert gsp.rollback("p1", "w1")["result"] == 9
    assert ace.cancel("p1", 8, reference=7)["balance"] == 90.00
    assert gsp.withdraw("p1", "1.00", "brand-new")["balance"] == 89.00
    assert redis_client.hlen(store.keys("p1").txs("gitslotpark")) > 0  # brought back, and the new one
    drain_once(store, engine)
    prune(store, engine, timedelta(0))
    assert redis_client.hgetall(store.keys("p1").txs("gitslotpark")) == {}
    assert gsp.rollback("p1", "w1")["result"] == 9


def test_restore_rebuilds_the_aged_id_filter(
    app: Flask,
    engine: Engine,
    redis_client: redis.Redis,
    prefix: str,
    history: dict[str, object],
    gsp: Provider,
    operator: Operator,
) -> None:
    """Restored with a retention they are past, records stay in SQL only and their ids are still
    recognised: a replay answers the first answer, a late original after a cancel is refused."""
    store = app.extensions["wallet"].store
    _lose_redis(redis_client, prefix)
    assert recovery.restore(store, engine, timedelta(0)) == (2, RECORDS)
    assert redis_client.hgetall(store.keys("p1").txs("gitslotpark")) == {}
    replay = gsp.withdraw("p1", "10.00", "t1")
    assert (replay["result"], replay["transactionID"]) == (0, history["bet"]["transactionID"])  # type: ignore[index]
    assert gsp.withdraw("p1", "10.00", "early")["result"] == 9
    assert operator.balance("p1") == "91.00"


def test_prune_keeps_records_changed_since_the_snapshot(
    app: Flask, engine: Engine, redis_client: redis.Redis, history: dict[str, object], gsp: Provider
) -> None:
    """A record rolled back after the last drain is not pruned until SQL has the rollback."""
    store = app.extensions["wallet"].store
    gsp.rollback("p1", "t1")  # not drained yet: SQL still says applied
    prune(store, engine, timedelta(0))
    assert redis_client.hget(store.keys("p1").txs("gitslotpark"), "t1") is not None
    drain_once(store, engine)
    prune(store, engine, timedelta(0))
    assert redis_client.hget(store.keys("p1").txs("gitslotpark"), "t1") is None
    assert gsp.rollback("p1", "t1")["result"] == 9


def test_check_counts_undrained_entries(
    app: Flask, engine: Engine, history: dict[str, object], gsp: Provider, operator: Operator
) -> None:
    """Entries not drained yet (and players not in SQL yet) reconcile through the stream."""
    gsp.deposit("p1", "7.00", "w9")
    operator.create("p3", balance="1.00")
    assert recovery.check(app.extensions["wallet"].store, engine) == (3, [])


def test_check_catches_corrupted_balance(
    app: Flask, engine: Engine, redis_client: redis.Redis, history: dict[str, object]
) -> None:
    """A balance changed behind the wallet's back is reported, and `wallet check` exits non-zero."""
    store = app.extensions["wallet"].store
    redis_client.hincrby(store.keys("p1").account, "balance", 1)
    players, mismatches = recovery.check(store, engine)
    assert players == 2
    assert [(m.player, m.redis, m.snapshot, m.ledger) for m in mismatches] == [("p1", 9101, 9100, 9100)]
    result = CliRunner().invoke(main, ["check"], obj=app)
    assert result.exit_code == 1
    assert "MISMATCH p1: redis 91.01, sql snapshot 91.00 + undrained 0.00, ledger 91.00" in result.output
