"""RollbackTransaction: reversal of each kind, rollback before the original, repeats, negative balances."""

from __future__ import annotations

import pytest

from tests.conftest import Operator, Provider


@pytest.fixture
def player(operator: Operator) -> str:
    operator.create("p1", balance="100.00")
    return "p1"


def test_rollback_withdraw_credits_back(player: str, gsp: Provider) -> None:
    """Rolling back a Withdraw returns the stake."""
    gsp.withdraw(player, "30.00", "t1")
    reply = gsp.rollback(player, "t1")
    assert (reply["result"], reply["balance"]) == (0, 100.00)


def test_rollback_deposit_debits_back(player: str, gsp: Provider) -> None:
    """Rolling back a Deposit takes the win away again."""
    gsp.deposit(player, "30.00", "w1")
    assert gsp.rollback(player, "w1")["balance"] == 100.00


def test_rollback_bet_win_reverses_net(player: str, gsp: Provider) -> None:
    """Rolling back a BetWin reverses its net (win - bet), for a winning and a losing one."""
    gsp.bet_win(player, "10.00", "35.00", "bw1")
    gsp.bet_win(player, "20.00", "0.00", "bw2")
    assert gsp.balance(player)["balance"] == 105.00
    assert gsp.rollback(player, "bw1")["balance"] == 80.00
    assert gsp.rollback(player, "bw2")["balance"] == 100.00


def test_rollback_of_free_spin_moves_nothing(player: str, gsp: Provider) -> None:
    """A free-spin Withdraw took nothing, so its rollback gives nothing back."""
    gsp.withdraw(player, "5.00", "fs1", freeSpin=True)
    assert gsp.rollback(player, "fs1")["balance"] == 100.00


def test_repeated_rollback_is_9(player: str, gsp: Provider) -> None:
    """A second rollback of the same transaction answers 9 and changes nothing."""
    gsp.withdraw(player, "30.00", "t1")
    gsp.rollback(player, "t1")
    assert gsp.rollback(player, "t1") == {"result": 9, "message": "Transaction already rolled back"}
    assert gsp.balance(player)["balance"] == 100.00


def test_replay_of_rolled_back_original_is_still_duplicate(player: str, gsp: Provider) -> None:
    """The original's replay after its rollback is answered as a duplicate, not applied again."""
    first = gsp.withdraw(player, "30.00", "t1")
    gsp.rollback(player, "t1")
    again = gsp.withdraw(player, "30.00", "t1")
    assert (again["result"], again["transactionID"], again["balance"]) == (0, first["transactionID"], 100.00)


def test_rollback_before_original(player: str, gsp: Provider) -> None:
    """Rollback of an unknown id answers 8; the late original is then refused (9), a second rollback too."""
    assert gsp.rollback(player, "late") == {"result": 8, "message": "Transaction not found"}
    assert gsp.withdraw(player, "30.00", "late")["result"] == 9
    assert gsp.deposit(player, "30.00", "late", round_id="r2")["result"] == 9  # r1: the Withdraw's sign, 3
    assert gsp.rollback(player, "late")["result"] == 9
    assert gsp.balance(player)["balance"] == 100.00


def test_rollback_of_deposit_may_go_negative_and_blocks_bets(player: str, gsp: Provider) -> None:
    """Reversing a spent win takes the balance below zero; bets are then refused until it is covered."""
    gsp.deposit(player, "50.00", "w1")
    gsp.withdraw(player, "150.00", "t1")
    assert gsp.rollback(player, "w1")["balance"] == -50.00
    assert gsp.withdraw(player, "0.00", "t2")["result"] == 6
    assert gsp.bet_win(player, "0.00", "10.00", "bw1")["result"] == 6
    gsp.deposit(player, "50.00", "w2")
    assert gsp.withdraw(player, "0.00", "t2")["result"] == 0


def test_rollback_is_per_player(operator: Operator, gsp: Provider) -> None:
    """Rolling back one player's id does not touch another player's transaction with the same id."""
    operator.create("a", balance="10.00")
    operator.create("b", balance="10.00")
    gsp.withdraw("a", "1.00", "shared")
    gsp.withdraw("b", "1.00", "shared")
    assert gsp.rollback("a", "shared")["balance"] == 10.00
    assert gsp.balance("b")["balance"] == 9.00
