"""Every amount a user may send is taken, and none past the limits moves money: per-request limits
from the currency's unit (100 billion EUR, 10 trillion JPY), balances capped at 2^53 - 1 minor
units, nothing below a currency's unit ever rounded."""

from __future__ import annotations

from flask import Flask

from tests.conftest import Ace, Operator, Provider
from wallet.core.money import MAX_BALANCE, MAX_REQUEST


def _raw_balance(app: Flask, player: str) -> int:
    store = app.extensions["wallet"].store
    return int(store.client.hget(store.keys(player).account, "balance"))


def _ledger_length(app: Flask, player: str) -> int:
    """Entries of the player's shard stream that are not signature claims (wallet/core/signs.py:
    a claim's marker may land in the same shard)."""
    store = app.extensions["wallet"].store
    entries = store.client.xrange(store.keys(player).ledger)
    return sum(1 for _, e in entries if not (e.get("kind") == "marker" and ".sign" in e.get("meta", "")))


def test_large_legitimate_amounts_are_taken(operator: Operator) -> None:
    """150,000.00 EUR, 100 billion EUR and 10 trillion JPY per request are deposited."""
    operator.create("eu")
    operator.create("jp", currency="JPY")
    assert operator.deposit("eu", "150000.00", "d1").status_code == 201
    assert operator.deposit("eu", "100000000000.00", "d2").status_code == 201
    assert operator.balance("eu") == "100000150000.00"
    assert operator.deposit("jp", str(MAX_REQUEST), "d3").status_code == 201
    assert operator.balance("jp") == str(MAX_REQUEST)


def test_past_the_per_request_limit_is_422_and_moves_nothing(app: Flask, operator: Operator) -> None:
    """One cent past 100 billion EUR is amount_too_large; the balance and ledger stay."""
    operator.create("eu", balance="1.00")
    before = _ledger_length(app, "eu")
    answer = operator.deposit("eu", "100000000000.01", "d1")
    assert answer.status_code == 422 and answer.get_json()["error"] == "amount_too_large"
    assert operator.balance("eu") == "1.00" and _ledger_length(app, "eu") == before


def test_igamingace_jpy_win_of_123456_yen(operator: Operator, ace: Ace) -> None:
    """A win of 123,456 yen is paid (it was ERR_UNKNOWN under a fixed cap at 8 decimals)."""
    operator.create("jp", currency="JPY", balance="1000")
    operator.sign_in("jp")
    assert ace.bet("jp", "100", 1, currency="JPY")["statusCode"] == "OK"
    assert ace.win("jp", "123456", 2)["statusCode"] == "OK"
    assert operator.balance("jp") == str(1000 - 100 + 123456)


def test_balance_never_passes_2_to_the_53(app: Flask, operator: Operator, gsp: Provider, ace: Ace) -> None:
    """A deposit, a GitSlotPark win, an iGamingAce betwin or a rollback of a bet that would take the
    balance past 2^53 - 1 minor units is refused with each surface's code; nothing moves."""
    operator.create("rich")
    operator.sign_in("rich")
    store = app.extensions["wallet"].store
    assert gsp.withdraw("rich", "0.00", "bet0")["result"] == 0
    store.client.hset(store.keys("rich").account, "balance", MAX_BALANCE - 100)
    assert gsp.withdraw("rich", "0.50", "bet1")["result"] == 0  # MAX_BALANCE - 150
    before = _ledger_length(app, "rich")
    answer = operator.deposit("rich", "2.00", "d1")
    assert answer.status_code == 422 and answer.get_json()["error"] == "amount_too_large"
    assert gsp.deposit("rich", "1.51", "win1")["result"] == 2
    assert ace.bet_win("rich", "0.00", "1.51", 7)["statusCode"] == "ERR_UNKNOWN"
    assert _raw_balance(app, "rich") == MAX_BALANCE - 150 and _ledger_length(app, "rich") == before
    assert gsp.deposit("rich", "1.50", "win2")["result"] == 0  # exactly the largest balance
    assert _raw_balance(app, "rich") == MAX_BALANCE
    assert gsp.rollback("rich", "bet1")["result"] == 2  # giving the 0.50 back would pass it
    assert _raw_balance(app, "rich") == MAX_BALANCE


def test_amount_below_the_unit_is_refused_never_rounded(operator: Operator, ace: Ace, gsp: Provider) -> None:
    """iGamingAce 1e-999999999 and 0.001 EUR, GitSlotPark 0.001: refused, nothing credited."""
    operator.create("p1", balance="5.00")
    operator.sign_in("p1")
    assert ace.win("p1", "1e-999999999", 1)["statusCode"] == "ERR_UNKNOWN"
    assert ace.win("p1", "0.001", 2)["statusCode"] == "ERR_UNKNOWN"
    assert gsp.deposit("p1", "0.001", "w3")["result"] == 2
    assert operator.balance("p1") == "5.00"
