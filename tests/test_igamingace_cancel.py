"""iGamingAce cancel: by referenceId or by round, replays, double cancels, cancel before bet, concurrency."""

from __future__ import annotations

from flask import Flask

from tests.conftest import Ace, together


def test_cancel_by_reference(ready: str, ace: Ace) -> None:
    """cancel with referenceId refunds that bet."""
    ace.bet(ready, "10.00", 1)
    assert ace.cancel(ready, 100, reference=1) == {"balance": 100.00, "statusCode": "OK"}


def test_cancel_replay_is_ok(ready: str, ace: Ace) -> None:
    """The same cancel transactionId again answers OK and refunds nothing more."""
    ace.bet(ready, "10.00", 1)
    ace.cancel(ready, 100, reference=1)
    assert ace.cancel(ready, 100, reference=1) == {"balance": 100.00, "statusCode": "OK"}


def test_second_cancel_of_refunded_bet(ready: str, ace: Ace) -> None:
    """Another cancel of an already refunded bet answers ERR_TRANSACTION_ROLLED_BACK, and its replay too."""
    ace.bet(ready, "10.00", 1)
    ace.cancel(ready, 100, reference=1)
    assert ace.cancel(ready, 101, reference=1) == {
        "balance": 100.00,
        "statusCode": "ERR_TRANSACTION_ROLLED_BACK",
    }
    assert ace.cancel(ready, 101, reference=1)["statusCode"] == "ERR_TRANSACTION_ROLLED_BACK"


def test_cancel_id_reused_for_other_bet_is_err_unknown(ready: str, ace: Ace) -> None:
    """A cancel transactionId replayed with another referenceId answers ERR_UNKNOWN, nothing refunded."""
    ace.bet(ready, "10.00", 1)
    ace.bet(ready, "20.00", 2)
    ace.cancel(ready, 100, reference=1)
    assert ace.cancel(ready, 100, reference=2)["statusCode"] == "ERR_UNKNOWN"
    assert ace.balance(ready)["balance"] == 80.00


def test_cancel_before_bet(ready: str, ace: Ace) -> None:
    """A cancel of an unknown bet answers ERR_TRANSACTION_DOES_NOT_EXIST; the late bet is then refused."""
    assert ace.cancel(ready, 100, reference=1) == {
        "balance": 100.00,
        "statusCode": "ERR_TRANSACTION_DOES_NOT_EXIST",
    }
    assert ace.cancel(ready, 100, reference=1)["statusCode"] == "ERR_TRANSACTION_DOES_NOT_EXIST"
    assert ace.bet(ready, "10.00", 1)["statusCode"] == "ERR_TRANSACTION_ROLLED_BACK"
    assert ace.balance(ready)["balance"] == 100.00


def test_cancel_by_round(ready: str, ace: Ace) -> None:
    """Without referenceId every unrefunded bet of the round is refunded; other rounds are untouched."""
    ace.bet(ready, "10.00", 1, round_id=7)
    ace.bet(ready, "5.00", 2, round_id=7)
    ace.bet(ready, "1.00", 3, round_id=8)
    ace.cancel(ready, 100, reference=1)
    assert ace.cancel(ready, 101, round_id=7) == {"balance": 99.00, "statusCode": "OK"}
    assert ace.cancel(ready, 102, round_id=7)["statusCode"] == "ERR_TRANSACTION_ROLLED_BACK"
    assert ace.cancel(ready, 103, round_id=9)["statusCode"] == "ERR_TRANSACTION_DOES_NOT_EXIST"


def test_cancel_by_round_leaves_wins(ready: str, ace: Ace) -> None:
    """A round cancel refunds the round's bets only, never takes its wins back."""
    ace.bet(ready, "10.00", 1, round_id=7)
    ace.win(ready, "30.00", 2, round_id=7)
    assert ace.cancel(ready, 100, round_id=7)["balance"] == 130.00


def test_cancel_of_betwin_reverses_net(ready: str, ace: Ace) -> None:
    """A cancel naming a betwin reverses its net."""
    ace.bet_win(ready, "10.00", "4.00", 1)
    assert ace.cancel(ready, 100, reference=1)["balance"] == 100.00


def test_32_concurrent_copies_of_a_bet(app: Flask, ready: str, ace: Ace) -> None:
    """32 simultaneous copies of one bet: applied once, every copy answered OK."""
    replies = together(app, 32, Ace, lambda a, i: a.bet(ready, "7.00", 1))
    assert {r["statusCode"] for r in replies} == {"OK"}
    assert ace.balance(ready)["balance"] == 93.00


def test_concurrent_distinct_cancels_refund_once(app: Flask, ready: str, ace: Ace) -> None:
    """16 different cancels of one bet at once: one OK, fifteen ERR_TRANSACTION_ROLLED_BACK."""
    ace.bet(ready, "40.00", 1)
    replies = together(app, 16, Ace, lambda a, i: a.cancel(ready, 1000 + i, reference=1))
    statuses = [r["statusCode"] for r in replies]
    assert (statuses.count("OK"), statuses.count("ERR_TRANSACTION_ROLLED_BACK")) == (1, 15)
    assert ace.balance(ready)["balance"] == 100.00


def test_64_concurrent_bets_exactly_affordable(app: Flask, ready: str, ace: Ace) -> None:
    """64 distinct 10.00 bets on 100.00: exactly ten succeed, the rest answer ERR_NOT_ENOUGH_MONEY."""
    statuses = [r["statusCode"] for r in together(app, 64, Ace, lambda a, i: a.bet(ready, "10.00", i + 1))]
    assert (statuses.count("OK"), statuses.count("ERR_NOT_ENOUGH_MONEY")) == (10, 54)
    assert ace.balance(ready)["balance"] == 0.00
