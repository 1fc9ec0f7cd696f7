"""iGamingAce cancels are safe in any order: every order of two bets, a win, a cancel by round and
cancels by reference (of a bet, and of the win) gives the answers and the balance of a simple
model. A round cancelled before its bets refuses them late; a cancel never reverses a win."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Ace, Operator

OK, GONE, MISSING = "OK", "ERR_TRANSACTION_ROLLED_BACK", "ERR_TRANSACTION_DOES_NOT_EXIST"
BETS = {"betA": (1, 500), "betB": (2, 300)}  # transaction id, cents
WIN = (3, 400)
EVENTS = ["betA", "betB", "win", "cancelRound", "cancelA", "cancelWin"]
_players = itertools.count()


@dataclass
class Model:
    """What the wallet must answer, kept by hand: states of the ids and the balance."""

    balance: int = 10_000
    state: dict[int, str] = field(default_factory=dict)  # id -> applied | refunded | cancelled
    round_cancelled: bool = False

    def bet(self, tx: int, cents: int) -> str:
        if self.state.get(tx) == "cancelled" or self.round_cancelled:
            return GONE
        self.state[tx], self.balance = "applied", self.balance - cents
        return OK

    def win(self) -> str:
        if self.state.get(WIN[0]) == "cancelled":
            return GONE
        self.state[WIN[0]], self.balance = "applied", self.balance + WIN[1]
        return OK

    def cancel_round(self) -> str:
        self.round_cancelled = True
        bets = [tx for tx, _ in BETS.values() if self.state.get(tx) in ("applied", "refunded")]
        live = [tx for tx in bets if self.state[tx] == "applied"]
        for tx in live:
            self.refund(tx)
        return OK if live else (GONE if bets else MISSING)

    def cancel(self, tx: int) -> str:
        found = self.state.get(tx)
        if tx == WIN[0] and found == "applied":
            return MISSING  # a win is never cancelled
        if found == "applied":
            self.refund(tx)
            return OK
        if found is None:
            self.state[tx] = "cancelled"
            return MISSING
        return GONE

    def refund(self, tx: int) -> None:
        self.state[tx] = "refunded"
        self.balance += next(cents for t, cents in BETS.values() if t == tx)


def _send(ace: Ace, player: str, event: str, n: int) -> str:
    if event in BETS:
        tx, cents = BETS[event]
        return ace.bet(player, f"{cents / 100:.2f}", tx)["statusCode"]
    if event == "win":
        return ace.win(player, f"{WIN[1] / 100:.2f}", WIN[0])["statusCode"]
    reference = {"cancelRound": None, "cancelA": BETS["betA"][0], "cancelWin": WIN[0]}[event]
    return ace.cancel(player, 100 + n, reference=reference)["statusCode"]


def _expect(model: Model, event: str) -> str:
    if event in BETS:
        return model.bet(*BETS[event])
    if event == "win":
        return model.win()
    if event == "cancelRound":
        return model.cancel_round()
    return model.cancel(BETS["betA"][0] if event == "cancelA" else WIN[0])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(EVENTS))
def test_every_order_matches_the_model(app: Flask, operator: Operator, ace: Ace, order: list[str]) -> None:
    """Each answer and the final balance are the model's, whatever the order."""
    player = f"order{next(_players)}"
    operator.create(player, balance="100.00")
    operator.sign_in(player)
    model = Model()
    for n, event in enumerate(order):
        assert _send(ace, player, event, n) == _expect(model, event), (order, event)
    assert operator.balance(player) == f"{model.balance / 100:.2f}", order


def test_round_cancelled_before_its_bet_refuses_it(operator: Operator, ace: Ace) -> None:
    """The issue's case: a round cancel with no bets answers DOES_NOT_EXIST, and the late bet of
    that round is refused ROLLED_BACK instead of being charged and never refunded."""
    operator.create("p1", balance="10.00")
    operator.sign_in("p1")
    assert ace.cancel("p1", 50, round_id=7)["statusCode"] == MISSING
    assert ace.bet("p1", "2.00", 51, round_id=7)["statusCode"] == GONE
    assert ace.bet("p1", "2.00", 52, round_id=8)["statusCode"] == OK
    assert operator.balance("p1") == "8.00"


def test_cancel_naming_a_win_leaves_it(operator: Operator, ace: Ace) -> None:
    """A cancel whose referenceId is a win answers DOES_NOT_EXIST, moves nothing, and the win's
    replay still answers OK with the balance it made."""
    operator.create("p1", balance="10.00")
    operator.sign_in("p1")
    assert ace.win("p1", "4.00", 60)["statusCode"] == OK
    assert ace.cancel("p1", 61, reference=60)["statusCode"] == MISSING
    assert ace.cancel("p1", 61, reference=60)["statusCode"] == MISSING  # its own replay
    assert ace.win("p1", "4.00", 60)["statusCode"] == OK
    assert operator.balance("p1") == "14.00"
