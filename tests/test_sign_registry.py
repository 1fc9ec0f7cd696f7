"""One signature, one body: a sign accepted once is refused with any other body (re-cut across
fields and players, values swapped), in both GitSlotPark dialects and iGamingAce, within the
retention and past it (through SQL and the aged-id filter); replays of the same body still pass."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Engine

from tests.conftest import AGENT, Ace, Operator, Provider, ace_sign, gsp_sign
from tests.test_aged_ids import age, agent_app, tx_hash  # noqa: F401  (agent_app: a fixture)
from tests.test_gitslotpark_agent_dialect import agent_sign
from tests.test_gitslotpark_agent_dialect import call as agent_call
from wallet.core import signs
from wallet.ledger import db
from wallet.ops import metrics

BAD_SIGN = 3


def recut(gsp: Provider, operation: str, original: dict[str, Any], **moved: Any) -> dict[str, Any]:
    """Send ``original`` once with its own sign, then ``moved`` (the same sign input cut at other
    boundaries) with that same sign; the second reply."""
    sign = gsp_sign(operation, {"agentID": AGENT, **original})
    assert gsp.call(operation, **original)["result"] == 0
    assert gsp_sign(operation, {"agentID": AGENT, **moved}) == sign  # the re-cut signs the same
    return gsp.call(operation, sign=sign, **moved)


def test_deposit_recut_across_fields_and_players(operator: Operator, gsp: Provider) -> None:
    """A Deposit re-cut into other ids, or into another player with a larger amount, is code 3 and
    counted as a signature conflict; the original body still replays."""
    for player in ("vic1", "vic"):
        operator.create(player, balance="0.00")
    conflicts = metrics.REPLAYS.labels("gitslotpark.sign", "conflict")
    before = conflicts._value.get()  # counters are per process: other tests count too
    original = {"userID": "vic1", "amount": "50.00", "transactionID": "win-77", "roundID": "round-9"}
    assert (
        recut(gsp, "Deposit", original, **{**original, "transactionID": "w", "roundID": "in-77round-9"})["result"]
        == BAD_SIGN
    )
    other = {"userID": "vic", "amount": "150.00", "transactionID": "win-77", "roundID": "round-9"}
    assert gsp.call("Deposit", sign=gsp_sign("Deposit", {"agentID": AGENT, **original}), **other)["result"] == 3
    assert (operator.balance("vic1"), operator.balance("vic")) == ("50.00", "0.00")
    assert conflicts._value.get() - before == 2  # what the WalletSignatureReused alert watches
    replay = gsp.call("Deposit", **original)
    assert (replay["result"], replay["balance"]) == (0, 50.0)


def test_withdraw_betwin_and_rollback_recuts(operator: Operator, gsp: Provider) -> None:
    """Withdraw across players, BetWin into player 'p' and a Rollback into another id: all code 3,
    nothing moved, and the id the re-cut named is not marked cancelled."""
    for player in ("vic1", "vic", "p15", "p"):
        operator.create(player, balance="500.00")
    withdraw = {"userID": "vic1", "amount": "50.00", "transactionID": "bet-5", "roundID": "r"}
    assert recut(gsp, "Withdraw", withdraw, **{**withdraw, "userID": "vic", "amount": "150.00"})["result"] == 3
    bet_win = {"userID": "p15", "betAmount": "0.00", "winAmount": "5.00", "transactionID": "t", "roundID": "r"}
    moved = {**bet_win, "userID": "p", "betAmount": "150.00"}
    assert recut(gsp, "BetWin", bet_win, **moved)["result"] == 3
    rollback = {"userID": "vic1", "transactionID": "bet-5"}
    assert recut(gsp, "RollbackTransaction", rollback, userID="vic", transactionID="1bet-5")["result"] == 3
    balances = [operator.balance(p) for p in ("vic1", "vic", "p15", "p")]
    assert balances == ["500.00", "500.00", "505.00", "500.00"]
    assert gsp.withdraw("vic", "1.00", "1bet-5", round_id="r")["result"] == 0  # never cancelled


def test_agent_dialect_recut(agent_app: Flask) -> None:  # noqa: F811
    """Agent dialect: a Deposit re-cut between refTransactionID and gameID is code 3."""
    client = agent_app.test_client()
    Operator(client).create("p1", balance="0.00")
    body = {"amount": 5, "transactionID": "w1", "roundID": "r1", "refTransactionID": "b1", "gameID": 12}
    sign = agent_sign("Deposit", {"agentID": AGENT, "userID": "p1", **body})
    assert agent_call(client, "Deposit", **body)["code"] == 0
    moved = {**body, "refTransactionID": "b11", "gameID": 2}
    assert agent_call(client, "Deposit", sign=sign, **moved)["code"] == BAD_SIGN
    assert Operator(client).balance("p1") == "5.00"


def test_igamingace_renamed_key(ready: str, ace: Ace) -> None:
    """iGamingAce signs the values in key order, not the keys: a cancel of one bet whose
    referenceId is renamed providerId (the same place in key order) signs the same and would cancel
    the whole round; once the original was accepted it is ERR_INTEGRITY_CHECK_FAILED."""
    for tx in (1, 2, 3):
        assert ace.bet(ready, "10.00", tx)["statusCode"] == "OK"
    cancel = {"command": "cancel", "transactionId": 9, "playerId": ready, "roundId": 1, "referenceId": 2}
    cancel["timestamp"] = int(time.time())
    renamed = {**{k: v for k, v in cancel.items() if k != "referenceId"}, "providerId": 2}
    assert ace_sign(renamed) == ace_sign(cancel)
    assert ace.send(cancel)["statusCode"] == "OK"
    assert ace.send(renamed, ace_sign(cancel))["statusCode"] == "ERR_INTEGRITY_CHECK_FAILED"
    assert ace.send(cancel)["statusCode"] == "OK"  # the same body again: a replay, answered as before
    assert ace.balance(ready)["balance"] == 80.00


def test_registry_past_the_retention(app: Flask, engine: Engine, operator: Operator, gsp: Provider) -> None:
    """Once drained to SQL and pruned into the aged-id filter, an accepted sign is still refused
    with another body, and its own body still replays; SQL holds one registry row per sign."""
    for player in ("vic1", "vic"):
        operator.create(player, balance="0.00")
    original = {"userID": "vic1", "amount": "50.00", "transactionID": "win-77", "roundID": "round-9"}
    sign = gsp_sign("Deposit", {"agentID": AGENT, **original})
    assert gsp.call("Deposit", **original)["result"] == 0
    age(app, engine)
    bucket, digest = signs.claim_id(sign)
    assert tx_hash(app, signs.registry("gitslotpark"), bucket) == {}  # out of Redis
    moved = {**original, "userID": "vic", "amount": "150.00"}
    assert gsp.call("Deposit", sign=sign, **moved)["result"] == BAD_SIGN
    assert gsp.call("Deposit", **original)["result"] == 0
    assert (operator.balance("vic1"), operator.balance("vic")) == ("50.00", "0.00")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(db.transactions).where(db.transactions.c.provider == "gitslotpark.sign")).all()
    assert [(r.player, r.tx, r.state) for r in rows] == [(bucket, digest, "A")]
