"""Transaction ids past the retention, answered through the aged-id filter and SQL: both GitSlotPark
dialects, iGamingAce and the cashier keep exactly-once; a false positive costs a lookup, nothing more."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from alembic import command
from alembic.config import Config
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from tests.conftest import OPERATOR_KEY, Ace, Operator, Provider, fresh_sqlite, make_env
from tests.test_gitslotpark_agent_dialect import call as agent_call
from wallet import create_app
from wallet.core.records import fingerprint
from wallet.core.store import Store
from wallet.core.wallet import Move, Outcome, Wallet
from wallet.ledger import db
from wallet.ledger.archive import SqlArchive, prune
from wallet.ledger.snapshot import drain_once


@pytest.fixture
def agent_app(redis_client: redis.Redis, prefix: str, database_url: str) -> Iterator[Flask]:
    app = create_app(make_env(prefix, database_url, GITSLOTPARK_DIALECT="agent"), client=redis_client)
    db.migrate(app.extensions["wallet"].db)
    yield app
    app.extensions["wallet"].db.dispose()


def age(app: Flask, engine: Engine) -> None:
    """The snapshot job's work: drain to SQL, then move every record (retention 0) out of Redis."""
    store = app.extensions["wallet"].store
    drain_once(store, engine)
    prune(store, engine, timedelta(0))


def tx_hash(app: Flask, provider: str, player: str = "p1") -> dict[str, str]:
    store = app.extensions["wallet"].store
    return store.client.hgetall(store.keys(player).txs(provider))  # type: ignore[no-any-return]


def test_classic_dialect_aged_ids(app: Flask, engine: Engine, operator: Operator, gsp: Provider) -> None:
    """Aged ids (classic dialect): identical replay = first answer, other parameters = 2, a rollback
    applies once then 9, a late original after a rollback of the unknown id is refused."""
    operator.create("p1", balance="100.00")
    first = gsp.withdraw("p1", "10.00", "t1")
    gsp.rollback("p1", "early")
    age(app, engine)
    assert tx_hash(app, "gitslotpark") == {}
    replay = gsp.withdraw("p1", "10.00", "t1")
    assert (replay["result"], replay["transactionID"], replay["balance"]) == (0, first["transactionID"], 90.0)
    assert gsp.withdraw("p1", "11.00", "t1")["result"] == 2
    age(app, engine)
    assert gsp.rollback("p1", "t1")["balance"] == 100.0
    age(app, engine)
    assert gsp.rollback("p1", "t1")["result"] == 9
    assert gsp.withdraw("p1", "10.00", "early")["result"] == 9
    assert operator.balance("p1") == "100.00"


def test_agent_dialect_aged_ids(agent_app: Flask) -> None:
    """Aged ids (agent dialect): replays, conflicts, rollbacks by refTransactionID and their own ids."""
    engine = agent_app.extensions["wallet"].db
    client = agent_app.test_client()
    Operator(client).create("p1", balance="100.00")
    first = agent_call(client, "Withdraw", amount=10, transactionID="b1", roundID="r1", gameID=7)
    age(agent_app, engine)
    again = agent_call(client, "Withdraw", amount=10, transactionID="b1", roundID="r1", gameID=7)
    assert (again["code"], again["platformTransactionID"], again["balance"]) == (
        0,
        first["platformTransactionID"],
        90.0,
    )
    assert agent_call(client, "Withdraw", amount=10, transactionID="b1", roundID="r1", gameID=8)["code"] == 2
    assert agent_call(client, "RollbackTransaction", transactionID="rb1", refTransactionID="b1")["balance"] == 100.0
    age(agent_app, engine)
    assert agent_call(client, "RollbackTransaction", transactionID="rb1", refTransactionID="b1")["code"] == 0
    assert agent_call(client, "RollbackTransaction", transactionID="rb2", refTransactionID="b1")["code"] == 9
    assert Operator(client).balance("p1") == "100.00"


def test_igamingace_aged_ids(app: Flask, engine: Engine, operator: Operator, ace: Ace) -> None:
    """Aged ids (iGamingAce): a replayed bet moves nothing, a cancel by reference and by round applies
    once, a bet cancelled before it arrived stays refused."""
    operator.create("p1", balance="100.00")
    operator.sign_in("p1")
    ace.bet("p1", "10.00", 1, round_id=5)
    ace.bet("p1", "5.00", 2, round_id=6)
    ace.cancel("p1", 90, reference=3)  # the bet 3 never arrived
    age(app, engine)
    assert ace.bet("p1", "10.00", 1, round_id=5) == {"balance": 85.0, "statusCode": "OK"}
    assert ace.bet("p1", "10.00", 3)["statusCode"] == "ERR_TRANSACTION_ROLLED_BACK"
    assert ace.cancel("p1", 91, reference=1)["balance"] == 95.0
    age(app, engine)
    assert ace.cancel("p1", 92, round_id=6)["balance"] == 100.0  # by round: the bet 2 had aged
    assert ace.cancel("p1", 93, reference=1)["statusCode"] == "ERR_TRANSACTION_ROLLED_BACK"
    assert ace.cancel("p1", 91, reference=1) == {"balance": 100.0, "statusCode": "OK"}  # its own replay


def test_cashier_aged_idempotency_key(app: Flask, engine: Engine, operator: Operator) -> None:
    """An aged Idempotency-Key returns the first answer; reused for another amount it is a 409."""
    operator.create("p1")
    first = operator.deposit("p1", "25.00", key="k1")
    age(app, engine)
    again = operator.deposit("p1", "25.00", key="k1")
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
    assert operator.deposit("p1", "26.00", key="k1").status_code == 409
    assert operator.balance("p1") == "25.00"


def test_false_positive_costs_one_lookup(
    app: Flask, engine: Engine, client: FlaskClient, operator: Operator, gsp: Provider
) -> None:
    """With every bit of the filter set, each new id is a hit that SQL does not know: it is applied
    once as new, and counted as a false positive."""
    operator.create("p1", balance="100.00")
    gsp.withdraw("p1", "1.00", "t0")
    age(app, engine)
    store = app.extensions["wallet"].store
    for generation in store.generations():
        key = f"{store.keys('p1').tag}:aged:{generation.id}"
        store.client.set(key, b"\xff" * (generation.bits // 8))
    assert gsp.withdraw("p1", "2.00", "fresh")["balance"] == 97.0
    assert gsp.withdraw("p1", "2.00", "fresh")["balance"] == 97.0  # now a record in Redis: a replay
    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {OPERATOR_KEY}"}).get_data(as_text=True)
    assert 'wallet_aged_lookups_total{result="false_positive"} 1.0' in metrics


def test_older_json_record_answered_from_sql(app: Flask, engine: Engine, operator: Operator, gsp: Provider) -> None:
    """A record in the JSON form of earlier versions, once SQL has it, is replaced from SQL and a
    replay answers the first answer (the full-text fingerprint SQL kept still matches)."""
    operator.create("p1", balance="100.00")
    first = gsp.withdraw("p1", "10.00", "t1")
    drain_once(app.extensions["wallet"].store, engine)
    with engine.begin() as conn:  # as an earlier version journaled it: the fingerprint's full text
        conn.execute(db.transactions.update().values(fingerprint="bet|1000|0|r1||0"))
    old = {"s": "A", "r": "1-0", "d": "-1000", "f": "bet|1000|0|r1||0", "b": "9000", "k": "bet", "rd": "r1"}
    store = app.extensions["wallet"].store
    store.client.hset(store.keys("p1").txs("gitslotpark"), "t1", json.dumps(old))
    replay = gsp.withdraw("p1", "10.00", "t1")
    assert (replay["result"], replay["transactionID"], replay["balance"]) == (0, first["transactionID"], 90.0)
    assert tx_hash(app, "gitslotpark")["t1"].startswith("A|")
    assert fingerprint("bet|1000|0|r1||0") in tx_hash(app, "gitslotpark")["t1"]


def test_records_fit_a_listpack_value(app: Flask, operator: Operator, gsp: Provider) -> None:
    """A record with 20-character ids and a large amount stays under 64 bytes (hash-max-listpack-value)."""
    operator.create("p1", balance="90000000.00")
    gsp.withdraw("p1", "12345678.90", "a" * 20, round_id="r" * 32)
    gsp.rollback("p1", "a" * 20)
    assert all(len(record) <= 64 for record in tx_hash(app, "gitslotpark").values())


def test_generations_rotate_and_are_dropped_after_the_horizon(
    app: Flask, engine: Engine, operator: Operator, gsp: Provider
) -> None:
    """A generation open for a third of the horizon is closed for a new one; one closed a horizon
    ago is deleted; ids of the live generations are still recognised."""
    store = app.extensions["wallet"].store
    operator.create("p1", balance="100.00")
    gsp.withdraw("p1", "1.00", "old")
    age(app, engine)
    start, period = store.clock(), store.horizon / 3
    store.clock = lambda: start + period + 1
    gsp.withdraw("p1", "1.00", "mid")
    age(app, engine)
    assert [g.id for g in store.generations()] == [2, 1]
    assert gsp.withdraw("p1", "1.00", "old")["balance"] == 98.0  # a replay, from generation 1
    store.clock = lambda: start + period + 1 + store.horizon + 1
    age(app, engine)
    assert [g.id for g in store.generations()] == [3, 2]
    assert not store.client.exists(f"{store.keys('p1').tag}:aged:1")
    assert gsp.withdraw("p1", "1.00", "mid")["balance"] == 98.0  # generation 2: still recognised


def test_a_full_generation_is_followed_by_one_twice_its_size(
    app: Flask, engine: Engine, operator: Operator, gsp: Provider
) -> None:
    """Traffic past a generation's plan opens the next at twice the plan, before any more id is
    written, so no generation is filled past its plan."""
    store = app.extensions["wallet"].store
    operator.create("p1", balance="100.00")
    gsp.withdraw("p1", "1.00", "t1")
    age(app, engine)
    first = store.generations()[0]
    store.client.hset(f"{store.prefix}:aged:count", str(first.id), first.planned)  # as if it held its plan
    gsp.withdraw("p1", "1.00", "t2")
    age(app, engine)
    second, closed = store.generations()
    assert (second.planned, closed.id, closed.closed is not None) == (2 * first.planned, first.id, True)
    assert second.count == 2  # the bet's id and its sign's claim (wallet/core/signs.py)
    assert gsp.withdraw("p1", "1.00", "t2")["balance"] == 98.0


def test_a_process_with_an_old_directory_learns_the_new_one(
    app: Flask, engine: Engine, operator: Operator, gsp: Provider
) -> None:
    """A web process that cached the directory before a new generation opened is answered STALE,
    learns it, and recognises an id aged into the new generation."""
    store = app.extensions["wallet"].store
    operator.create("p1", balance="100.00")
    gsp.withdraw("p1", "1.00", "t1")
    age(app, engine)
    other = Wallet(Store(store.client, store.prefix, timedelta(seconds=store.horizon)), SqlArchive(engine))
    assert other.player("p1").balance == 9900
    assert other.credit(Move("gitslotpark", "p1", "w0", win=0)).outcome is Outcome.OK  # caches generation 1
    start = store.clock()
    store.clock = lambda: start + store.horizon - 60  # past a third of it: the job opens generation 2
    first = gsp.withdraw("p1", "1.00", "t2")
    age(app, engine)
    assert store.generations()[0].id == 2
    again = other.debit(Move("gitslotpark", "p1", "t2", bet=100, round="r1"))
    assert (again.outcome, again.balance) == (Outcome.DUPLICATE, 9800)
    assert f"{again.reference}" == first["transactionID"]


def test_tombstones_of_earlier_versions_leave_redis_after_the_upgrade(
    redis_client: redis.Redis, prefix: str, tmp_path: Path
) -> None:
    """A database at revision 0002 with records tombstoned 'P' in Redis (as earlier versions left
    them for good): after `wallet migrate` the next prune pass removes every tombstone, and a
    replay of such an id is still answered as the first time."""
    app = create_app(make_env(prefix, fresh_sqlite(tmp_path)), client=redis_client)
    engine, store = app.extensions["wallet"].db, app.extensions["wallet"].store
    db.migrate(engine)
    operator, gsp = Operator(app.test_client()), Provider(app.test_client())
    operator.create("p1", balance="100.00")
    first = gsp.withdraw("p1", "10.00", "t1")
    drain_once(store, engine)
    txs = store.keys("p1").txs("gitslotpark")
    store.client.hset(txs, "t1", "P")  # what the earlier prune left, and marked in SQL
    with engine.begin() as conn:
        conn.execute(db.transactions.update().values(pruned=True))
    config = Config()
    config.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")  # the database as that earlier version left it
    db.migrate(engine)
    prune(store, engine, timedelta(0))
    assert tx_hash(app, "gitslotpark") == {}
    replay = gsp.withdraw("p1", "10.00", "t1")
    assert (replay["result"], replay["transactionID"], replay["balance"]) == (0, first["transactionID"], 90.0)
    engine.dispose()
