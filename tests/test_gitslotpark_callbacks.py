"""GitSlotPark callbacks: each operation's happy path and every result code (PROTOCOLS.md section 1)."""

from __future__ import annotations

import pytest

from tests.conftest import AGENT, Operator, Provider, gsp_sign, make_env
from wallet import create_app


@pytest.fixture
def funded(operator: Operator) -> str:
    operator.create("p1", balance="100.00")
    return "p1"


def test_get_balance(funded: str, gsp: Provider) -> None:
    """GetBalance answers result 0 with the balance as a two-decimal number and the currency."""
    reply = gsp.balance(funded)
    assert reply == {"result": 0, "message": "OK", "balance": 100.00, "currency": "EUR"}
    raw = gsp.client.post(
        "/gitslotpark/GetBalance",
        json={"agentID": AGENT, "userID": funded, "sign": gsp_sign("GetBalance", {"agentID": AGENT, "userID": funded})},
    )
    assert b'"balance":100.00' in raw.get_data()


def test_withdraw_debits(funded: str, gsp: Provider) -> None:
    """Withdraw takes the amount and answers the new balance and our transaction reference."""
    reply = gsp.withdraw(funded, "12.30", "t1")
    assert reply["result"] == 0
    assert reply["balance"] == 87.70
    assert reply["transactionID"]


def test_deposit_credits(funded: str, gsp: Provider) -> None:
    """Deposit adds the amount (a win without a prior bet is accepted too)."""
    assert gsp.deposit(funded, "5.55", "w1")["balance"] == 105.55


def test_bet_win_net(funded: str, gsp: Provider) -> None:
    """BetWin applies win - bet in one step; a "0.00" win is a loss."""
    assert gsp.bet_win(funded, "10.00", "25.00", "bw1")["balance"] == 115.00
    assert gsp.bet_win(funded, "10.00", "0.00", "bw2")["balance"] == 105.00


def test_bet_win_checks_funds_against_bet(funded: str, gsp: Provider) -> None:
    """A BetWin whose bet exceeds the balance is refused with 6 even if the win would cover it."""
    reply = gsp.bet_win(funded, "100.01", "500.00", "bw1")
    assert reply == {"result": 6, "message": "Insufficient funds"}
    assert gsp.balance(funded)["balance"] == 100.00


def test_insufficient_funds_does_not_consume_id(funded: str, gsp: Provider) -> None:
    """A refused Withdraw (6) leaves the transactionID unused: a retry after a deposit succeeds."""
    assert gsp.withdraw(funded, "150.00", "t1")["result"] == 6
    assert gsp.deposit(funded, "50.00", "w1")["result"] == 0
    assert gsp.withdraw(funded, "150.00", "t1") | {"transactionID": None} == {
        "result": 0,
        "message": "OK",
        "balance": 0.00,
        "transactionID": None,
    }


def test_withdraw_whole_balance(funded: str, gsp: Provider) -> None:
    """The balance can go exactly to zero, and a cent more is refused."""
    assert gsp.withdraw(funded, "100.00", "t1")["balance"] == 0
    assert gsp.withdraw(funded, "0.01", "t2")["result"] == 6


def test_unknown_player_is_5(gsp: Provider) -> None:
    """Every callback for an unknown player answers 5; players are never created implicitly."""
    assert gsp.balance("ghost") == {"result": 5, "message": "User not found"}
    assert gsp.withdraw("ghost", "1.00", "t1")["result"] == 5
    assert gsp.deposit("ghost", "1.00", "t2")["result"] == 5  # t1 would be the Withdraw's sign: 3
    assert gsp.bet_win("ghost", "1.00", "2.00", "t3")["result"] == 5
    assert gsp.rollback("ghost", "t1")["result"] == 5
    assert gsp.balance("ghost")["result"] == 5


def test_zero_amounts_recorded(funded: str, gsp: Provider) -> None:
    """Zero amounts are valid, recorded (a replay is a duplicate) and leave the balance alone."""
    first = gsp.withdraw(funded, "0.00", "t0")
    assert first["result"] == 0 and first["balance"] == 100.00
    assert gsp.withdraw(funded, 0, "t0") == first
    assert gsp.deposit(funded, "0", "w0")["result"] == 0
    assert gsp.bet_win(funded, "0.00", "0.00", "bw0")["balance"] == 100.00


def test_free_spin_withdraw_takes_nothing(funded: str, gsp: Provider) -> None:
    """A Withdraw with freeSpin true is paid by the provider: the balance does not move."""
    assert gsp.withdraw(funded, "5.00", "fs1", freeSpin=True)["balance"] == 100.00
    assert gsp.deposit(funded, "3.00", "fs1-win")["balance"] == 103.00
    assert gsp.withdraw(funded, "500.00", "fs2", freeSpin=True)["result"] == 0


def test_free_spin_flag_must_be_boolean(funded: str, gsp: Provider) -> None:
    """freeSpin "yes" is wrong input (2), not silently a paid bet."""
    assert gsp.withdraw(funded, "5.00", "fs1", freeSpin="yes")["result"] == 2


def test_duplicate_answers_like_the_first(funded: str, gsp: Provider) -> None:
    """A replay with the same parameters gets result 0 and the same reference, nothing applied again."""
    first = gsp.withdraw(funded, "10.00", "t1")
    gsp.deposit(funded, "1.00", "w1")
    again = gsp.withdraw(funded, "10.00", "t1")
    assert again == {**first, "balance": 91.00}
    assert gsp.balance(funded)["balance"] == 91.00


def test_duplicate_code_11_by_configuration(redis_client, prefix) -> None:  # type: ignore[no-untyped-def]
    """With GITSLOTPARK_DUPLICATE_RESULT=11 a replay answers 11 with the balance and reference."""
    client = create_app(make_env(prefix, GITSLOTPARK_DUPLICATE_RESULT="11"), client=redis_client).test_client()
    Operator(client).create("p1", balance="20.00")
    gsp = Provider(client)
    first = gsp.withdraw("p1", "5.00", "t1")
    again = gsp.withdraw("p1", "5.00", "t1")
    assert (again["result"], again["balance"], again["transactionID"]) == (11, 15.00, first["transactionID"])


@pytest.mark.parametrize(
    ("change", "result"),
    [({"amount": "10.01"}, 2), ({"roundID": "r2"}, 2), ({"operation": "Deposit"}, 3), ({"freeSpin": True}, 3)],
)
def test_conflicting_replay_is_refused(funded: str, gsp: Provider, change: dict[str, object], result: int) -> None:
    """The same transactionID with another amount or round: 2; as a Deposit or with another
    free-spin flag (the sign is the same, the body is not: wallet/core/signs.py): 3. Original kept."""
    gsp.withdraw(funded, "10.00", "t1")
    fields = {"userID": funded, "amount": "10.00", "transactionID": "t1", "roundID": "r1"}
    operation = str(change.pop("operation", "Withdraw"))
    reply = gsp.call(operation, **{**fields, **change})
    assert reply["result"] == result
    assert gsp.balance(funded)["balance"] == 90.00


def test_bet_win_conflict(funded: str, gsp: Provider) -> None:
    """A BetWin replayed with another win amount answers 2."""
    gsp.bet_win(funded, "1.00", "2.00", "bw1")
    assert gsp.bet_win(funded, "1.00", "3.00", "bw1")["result"] == 2
    assert gsp.balance(funded)["balance"] == 101.00


def test_same_transaction_id_for_two_players(operator: Operator, gsp: Provider) -> None:
    """Transaction ids are per player: the same id for two players is applied to both."""
    operator.create("a", balance="10.00")
    operator.create("b", balance="10.00")
    assert gsp.withdraw("a", "1.00", "shared")["balance"] == 9.00
    assert gsp.withdraw("b", "2.00", "shared")["balance"] == 8.00


def test_blocked_player(funded: str, operator: Operator, gsp: Provider) -> None:
    """A blocked player's bets are refused (1); balance reads, wins and rollbacks still work."""
    gsp.withdraw(funded, "10.00", "before")
    operator.status(funded, "blocked")
    assert gsp.withdraw(funded, "1.00", "t1") == {"result": 1, "message": "Player is blocked"}
    assert gsp.bet_win(funded, "1.00", "5.00", "bw1")["result"] == 1
    assert gsp.balance(funded)["balance"] == 90.00
    assert gsp.deposit(funded, "3.00", "w1")["balance"] == 93.00
    assert gsp.rollback(funded, "before")["balance"] == 103.00
    operator.status(funded, "active")
    assert gsp.withdraw(funded, "1.00", "t1")["result"] == 0
