"""Property-based (hypothesis, stateful) on the wire: Hub88's bets, wins and rollbacks with global
transaction uuids (reused across players and operations), wins naming their bets, rollbacks before
their bets, sessions ending under a token, records aged out of Redis and a clock moved within the
4-month horizon, checked step by step against a plain model of PROTOCOLS.md section 4."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import fakeredis
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from tests.conftest import REAL_REDIS_URL, Operator, fresh_sqlite, make_env
from tests.hub88 import Hub88, env
from tests.test_model_wire import WireMachine
from wallet import create_app
from wallet.core.store import connect
from wallet.ledger import db

HORIZON = timedelta(days=122)
PLAYERS = ("ann", "bob")
UUIDS = ("u1", "u2", "u3", "u4", "u5")
CENTS = st.sampled_from((0, 1, 50, 250, 1000))


@dataclass
class Entry:
    """A player's transaction as the wallet keeps it: A applied, R refunded, C rolled back before
    it came, X a rollback's own record (with the outcome it answered)."""

    state: str
    delta: int = 0
    outcome: str = ""


@dataclass
class HubModel:
    balance: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PLAYERS, 5000))
    signed_in: set[str] = field(default_factory=lambda: set(PLAYERS))
    claims: dict[str, tuple[object, ...]] = field(default_factory=dict)  # uuid -> the request it named
    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)  # (player, uuid)

    def claimed(self, request: tuple[object, ...]) -> bool:
        """False when the uuid named another request before (DUPLICATE_TRANSACTION)."""
        return self.claims.setdefault(str(request[2]), request) == request

    def bet(self, player: str, tx: str, cents: int) -> str:
        if player not in self.signed_in:
            return "RS_ERROR_TOKEN_EXPIRED"
        if not self.claimed(("bet", player, tx, cents)):
            return "RS_ERROR_DUPLICATE_TRANSACTION"
        entry = self.entries.get((player, tx))
        if entry is not None:
            return "RS_ERROR_TRANSACTION_ROLLED_BACK" if entry.state == "C" else "RS_OK"
        if self.balance[player] < cents:
            return "RS_ERROR_NOT_ENOUGH_MONEY"
        self.balance[player] -= cents
        self.entries[(player, tx)] = Entry("A", -cents)
        return "RS_OK"

    def win(self, player: str, tx: str, cents: int, bet: str) -> str:
        if not self.claimed(("win", player, tx, cents, bet)):
            return "RS_ERROR_DUPLICATE_TRANSACTION"
        if (player, tx) in self.entries:  # a repeat; or a uuid a rollback named before it came
            return "RS_OK" if self.entries[(player, tx)].state == "A" else "RS_ERROR_TRANSACTION_ROLLED_BACK"
        paid = self.entries.get((player, bet))
        if paid is None or paid.state != "A" or paid.delta > 0:
            return "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
        self.balance[player] += cents
        self.entries[(player, tx)] = Entry("A", cents)
        return "RS_OK"

    def rollback(self, player: str, tx: str, bet: str) -> str:
        if not self.claimed(("rollback", player, tx, bet)):
            return "RS_ERROR_DUPLICATE_TRANSACTION"
        own = self.entries.get((player, tx))
        if own is not None:  # its own repeat; or a uuid an earlier rollback named as its bet
            return own.outcome if own.state == "X" else "RS_ERROR_DUPLICATE_TRANSACTION"
        target = self.entries.get((player, bet))
        if target is None:
            self.entries[(player, bet)] = Entry("C")
            outcome = "RS_OK"
        elif target.state == "A" and target.delta > 0:
            outcome = "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"  # a win: wins are retried, never rolled back
        elif target.state == "A":
            self.balance[player] -= target.delta
            target.state, outcome = "R", "RS_OK"
        else:
            outcome = "RS_OK"  # refunded already, or remembered as rolled back
        self.entries[(player, tx)] = Entry("X", outcome=outcome)
        return outcome


class Hub88Machine(WireMachine):
    horizon = HORIZON  # Hub88's 4 months: the clock may move that far

    def __init__(self) -> None:
        super().__init__()
        self.client = connect(REAL_REDIS_URL) if REAL_REDIS_URL else fakeredis.FakeRedis(decode_responses=True)
        self.prefix = f"hub-{uuid.uuid4().hex[:10]}"
        self.folder = tempfile.TemporaryDirectory()
        variables = make_env(self.prefix, fresh_sqlite(Path(self.folder.name)), **env())
        self.app = create_app(variables, client=self.client)
        self.store, self.engine = self.app.extensions["wallet"].store, self.app.extensions["wallet"].db
        db.migrate(self.engine)
        start, self.moved = self.store.clock(), 0.0
        self.store.clock = lambda: start + self.moved
        self.hub, self.operator = Hub88(self.app.test_client()), Operator(self.app.test_client())
        self.model, self.tokens = HubModel(), {}
        for player in PLAYERS:
            self.operator.create(player, balance="50.00")
            self.tokens[player] = self.operator.sign_in(player).get_json()["token"]

    def check(self, reply: dict[str, Any], expected: str, what: str) -> None:
        assert reply["status"] == expected, f"{what}: {reply['status']}, the model {expected}"

    @rule(player=st.sampled_from(PLAYERS), tx=st.sampled_from(UUIDS), cents=CENTS)
    def bet(self, player: str, tx: str, cents: int) -> None:
        expected = self.model.bet(player, tx, cents)
        self.check(self.hub.bet(player, self.tokens[player], cents * 1000, tx), expected, f"bet {player} {tx}")

    @rule(player=st.sampled_from(PLAYERS), tx=st.sampled_from(UUIDS), cents=CENTS, bet=st.sampled_from(UUIDS))
    def win(self, player: str, tx: str, cents: int, bet: str) -> None:
        expected = self.model.win(player, tx, cents, bet)
        self.check(self.hub.win(player, cents * 1000, tx, bet=bet), expected, f"win {player} {tx} of {bet}")

    @rule(player=st.sampled_from(PLAYERS), tx=st.sampled_from(UUIDS), bet=st.sampled_from(UUIDS))
    def rollback(self, player: str, tx: str, bet: str) -> None:
        expected = self.model.rollback(player, tx, bet)
        self.check(self.hub.rollback(player, tx, bet=bet), expected, f"rollback {player} {tx} of {bet}")

    @rule(player=st.sampled_from(PLAYERS))
    def sign_out_or_in(self, player: str) -> None:
        """The session ends (every token of it), or opens again with a new token."""
        if player in self.model.signed_in:
            self.operator.sign_out(player)
            self.model.signed_in.discard(player)
        else:
            self.tokens[player] = self.operator.sign_in(player).get_json()["token"]
            self.model.signed_in.add(player)

    @invariant()
    def balances_agree(self) -> None:
        for player in PLAYERS:
            assert self.hub.info(player)["balance"] == self.model.balance[player] * 1000, player


Hub88Machine.TestCase.settings = settings(max_examples=25, stateful_step_count=30, deadline=None)
test_hub88_matches_model = Hub88Machine.TestCase
