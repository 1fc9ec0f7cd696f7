"""One wallet, several providers: interleaved play stays exact and transaction ids are per provider."""

from __future__ import annotations

import redis
from flask import Flask

from tests.conftest import Ace, Operator, Provider, money_entries


def test_interleaved_play(app: Flask, redis_client: redis.Redis, operator: Operator, gsp: Provider, ace: Ace) -> None:
    """The same player bets on both providers; balances, rollbacks and the ledger stay exact."""
    operator.create("p1", balance="100.00")
    operator.sign_in("p1")
    assert gsp.withdraw("p1", "10.00", "1")["balance"] == 90.00
    assert ace.bet("p1", "20.00", 1)["balance"] == 70.00  # same id "1" on the other provider: applied
    assert gsp.deposit("p1", "5.00", "2")["balance"] == 75.00
    assert ace.win("p1", "40.00", 2)["balance"] == 115.00
    assert ace.cancel("p1", 3, reference=1)["balance"] == 135.00
    assert gsp.rollback("p1", "1")["balance"] == 145.00
    assert gsp.rollback("p1", "1")["result"] == 9
    assert ace.cancel("p1", 4, reference=1)["statusCode"] == "ERR_TRANSACTION_ROLLED_BACK"
    assert gsp.bet_win("p1", "5.00", "0.00", "3")["balance"] == 140.00
    assert ace.bet_win("p1", "5.00", "10.00", 5)["balance"] == 145.00
    assert gsp.balance("p1")["balance"] == ace.balance("p1")["balance"] == 145.00
    entries = money_entries(app, redis_client, "p1")
    assert sum(int(e["amount"]) for e in entries) == 14500
    assert {e["provider"] for e in entries} == {"cashier", "gitslotpark", "igamingace"}


def test_rollback_cannot_reach_other_provider(operator: Operator, gsp: Provider, ace: Ace) -> None:
    """A GitSlotPark rollback of id "1" does not touch iGamingAce's transaction 1, and vice versa."""
    operator.create("p1", balance="100.00")
    operator.sign_in("p1")
    ace.bet("p1", "20.00", 1)
    assert gsp.rollback("p1", "1")["result"] == 8
    assert ace.balance("p1")["balance"] == 80.00
    gsp.withdraw("p1", "5.00", "9")
    assert ace.cancel("p1", 10, reference=9)["statusCode"] == "ERR_TRANSACTION_DOES_NOT_EXIST"
    assert gsp.balance("p1")["balance"] == 75.00
