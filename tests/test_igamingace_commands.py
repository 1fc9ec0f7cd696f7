"""iGamingAce commands: balance, bet, win, betwin with every status code, sessions and blocked players."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from tests.conftest import Ace, Operator


def test_balance(ready: str, ace: Ace) -> None:
    """balance answers the balance as a two-decimal number with OK."""
    response = ace.client.post("/igamingace", data=b"{}", content_type="application/json")
    assert response.status_code == 200
    assert ace.balance(ready) == {"balance": 100.00, "statusCode": "OK"}


def test_unknown_player(ace: Ace) -> None:
    """Every command for an unknown player answers ERR_INVALID_PLAYER_ID."""
    assert ace.balance("ghost") == {"balance": 0.00, "statusCode": "ERR_INVALID_PLAYER_ID"}
    assert ace.bet("ghost", "1.00", 1)["statusCode"] == "ERR_INVALID_PLAYER_ID"
    assert ace.win("ghost", "1.00", 2)["statusCode"] == "ERR_INVALID_PLAYER_ID"
    assert ace.bet_win("ghost", "1.00", "1.00", 3)["statusCode"] == "ERR_INVALID_PLAYER_ID"
    assert ace.cancel("ghost", 4, reference=1)["statusCode"] == "ERR_INVALID_PLAYER_ID"


def test_bet_win_and_betwin(ready: str, ace: Ace) -> None:
    """bet debits, win credits, betwin applies the net; each answers the new balance."""
    assert ace.bet(ready, "10.00", 1) == {"balance": 90.00, "statusCode": "OK"}
    assert ace.win(ready, "25.50", 2) == {"balance": 115.50, "statusCode": "OK"}
    assert ace.bet_win(ready, "5.00", "0.00", 3) == {"balance": 110.50, "statusCode": "OK"}
    assert ace.bet_win(ready, "5.00", "7.25", 4)["balance"] == 112.75


def test_not_enough_money(ready: str, ace: Ace) -> None:
    """A bet or betwin beyond the balance answers ERR_NOT_ENOUGH_MONEY with the balance, nothing applied."""
    assert ace.bet(ready, "100.01", 1) == {"balance": 100.00, "statusCode": "ERR_NOT_ENOUGH_MONEY"}
    assert ace.bet_win(ready, "100.01", "500.00", 2)["statusCode"] == "ERR_NOT_ENOUGH_MONEY"
    assert ace.bet(ready, "100.00", 1)["balance"] == 0.00


def test_currency_mismatch(ready: str, ace: Ace) -> None:
    """A bet in another currency than the player's answers ERR_INVALID_ACCOUNT."""
    assert ace.bet(ready, "1.00", 1, currency="USD") == {
        "balance": 100.00,
        "statusCode": "ERR_INVALID_ACCOUNT",
    }


def test_duplicates_answer_ok_without_reapplying(ready: str, ace: Ace) -> None:
    """Replays of bet, win and betwin answer OK with the current balance and apply nothing again."""
    ace.bet(ready, "10.00", 1)
    ace.win(ready, "4.00", 2)
    ace.bet_win(ready, "1.00", "3.00", 3)
    assert ace.bet(ready, "10.00", 1) == {"balance": 96.00, "statusCode": "OK"}
    assert ace.win(ready, "4.00", 2)["balance"] == 96.00
    assert ace.bet_win(ready, "1.00", "3.00", 3)["balance"] == 96.00


def test_conflicting_replay_is_err_unknown(ready: str, ace: Ace) -> None:
    """The same transactionId with other parameters answers ERR_UNKNOWN; the original stays."""
    ace.bet(ready, "10.00", 1)
    assert ace.bet(ready, "11.00", 1)["statusCode"] == "ERR_UNKNOWN"
    assert ace.bet(ready, "10.00", 1, round_id=2)["statusCode"] == "ERR_UNKNOWN"
    assert ace.win(ready, "10.00", 1)["statusCode"] == "ERR_UNKNOWN"
    assert ace.balance(ready)["balance"] == 90.00


def test_session_required_for_balance_bet_betwin(operator: Operator, ace: Ace) -> None:
    """Without an open session balance, bet and betwin answer ERR_NOT_AUTHENTICATED."""
    operator.create("p1", balance="10.00")
    assert ace.balance("p1")["statusCode"] == "ERR_NOT_AUTHENTICATED"
    assert ace.bet("p1", "1.00", 1)["statusCode"] == "ERR_NOT_AUTHENTICATED"
    assert ace.bet_win("p1", "1.00", "2.00", 2)["statusCode"] == "ERR_NOT_AUTHENTICATED"
    assert operator.sign_in("p1").status_code == 201
    assert ace.bet("p1", "1.00", 1)["balance"] == 9.00


def test_win_and_cancel_need_no_session(ready: str, operator: Operator, ace: Ace) -> None:
    """After sign-out the player still gets wins and refunds."""
    ace.bet(ready, "10.00", 1)
    assert operator.sign_out(ready).status_code == 204
    assert ace.win(ready, "5.00", 2)["statusCode"] == "OK"
    assert ace.cancel(ready, 3, reference=1)["statusCode"] == "OK"
    assert ace.balance(ready)["statusCode"] == "ERR_NOT_AUTHENTICATED"
    assert operator.balance(ready) == "105.00"


def test_session_expires(redis_client, prefix) -> None:  # type: ignore[no-untyped-def]
    """A session opened with WALLET_SESSION_SECONDS=1 stops authorising bets after a second."""
    from tests.conftest import make_env
    from wallet import create_app

    client = create_app(make_env(prefix, WALLET_SESSION_SECONDS="1"), client=redis_client).test_client()
    operator, ace = Operator(client), Ace(client)
    operator.create("p1", balance="10.00")
    opened = operator.sign_in("p1").get_json()
    assert opened["expires_in"] == 1
    assert ace.bet("p1", "1.00", 1)["statusCode"] == "OK"
    time.sleep(1.2)
    assert ace.bet("p1", "1.00", 2)["statusCode"] == "ERR_NOT_AUTHENTICATED"


def test_blocked_player(ready: str, operator: Operator, ace: Ace) -> None:
    """A blocked player's bets answer ERR_NOT_AUTHENTICATED; balance, wins and cancels still work."""
    ace.bet(ready, "10.00", 1)
    operator.status(ready, "blocked")
    assert ace.bet(ready, "1.00", 2)["statusCode"] == "ERR_NOT_AUTHENTICATED"
    assert ace.bet_win(ready, "1.00", "5.00", 3)["statusCode"] == "ERR_NOT_AUTHENTICATED"
    assert ace.balance(ready) == {"balance": 90.00, "statusCode": "OK"}
    assert ace.win(ready, "2.00", 4)["balance"] == 92.00
    assert ace.cancel(ready, 5, reference=1)["balance"] == 102.00


def test_zero_amounts(ready: str, ace: Ace) -> None:
    """Zero bets and wins are valid and recorded."""
    assert ace.bet(ready, "0", 1)["statusCode"] == "OK"
    assert ace.win(ready, "0.00", 2)["statusCode"] == "OK"
    assert ace.bet(ready, "0", 1)["statusCode"] == "OK"


@pytest.mark.parametrize("amount", ["-1", "1.001", "1e-9", "1e12", "100000000000.01"])
def test_invalid_amount_is_err_unknown(ready: str, ace: Ace, amount: str) -> None:
    """Negative, over-precise (also written 1e-9) and huge amounts answer ERR_UNKNOWN and move nothing."""
    body = {
        "command": "bet",
        "transactionId": 1,
        "playerId": ready,
        "roundId": 1,
        "currency": "EUR",
        "amount": Decimal(amount),
        "timestamp": int(time.time()),
    }
    assert ace.send(body)["statusCode"] == "ERR_UNKNOWN"
    assert ace.balance(ready)["balance"] == 100.00


@pytest.mark.parametrize(
    "body",
    [
        {"command": "fly"},
        {"command": "bet"},
        {"command": "bet", "transactionId": 1.5, "playerId": "p1", "roundId": 1, "currency": "EUR", "amount": 1},
        {"playerId": "p1"},
        {"command": None, "playerId": "p1"},
    ],
)
def test_bad_bodies_are_err_unknown(ready: str, ace: Ace, body: dict[str, object]) -> None:
    """Unknown or missing commands, missing fields and fractional ids answer ERR_UNKNOWN."""
    assert ace.send({**body, "timestamp": int(time.time())})["statusCode"] == "ERR_UNKNOWN"


@pytest.mark.parametrize("text", [b"{", b"[]", b"null", b'{"a": {"b": 1}}', b'{"a": [1]}', b"NaN"])
def test_malformed_json_is_err_unknown(ace: Ace, text: bytes) -> None:
    """Malformed JSON, non-objects and nested values answer ERR_UNKNOWN with HTTP 200."""
    response = ace.client.post("/igamingace", data=text, content_type="application/json")
    assert response.status_code == 200
    assert response.get_json() == {"balance": 0.00, "statusCode": "ERR_UNKNOWN"}


def test_wrong_content_type_is_err_unknown(ace: Ace) -> None:
    """A body not declared as JSON answers ERR_UNKNOWN with HTTP 200."""
    response = ace.client.post("/igamingace", data="command=balance", content_type="text/plain")
    assert (response.status_code, response.get_json()["statusCode"]) == (200, "ERR_UNKNOWN")


def test_string_ids_accepted(ready: str, ace: Ace) -> None:
    """Ids sent as strings are accepted too (and are the same ids as the integers they spell)."""
    body = {
        "command": "bet",
        "transactionId": "77",
        "playerId": ready,
        "roundId": "1",
        "gameCode": "slot-1",
        "currency": "EUR",
        "amount": Decimal("1.00"),
        "timestamp": int(time.time()),
    }
    assert ace.send(body) == {"balance": 99.00, "statusCode": "OK"}
    assert ace.bet(ready, "1.00", 77) == {"balance": 99.00, "statusCode": "OK"}
