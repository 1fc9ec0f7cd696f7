"""Property-based (hypothesis, stateful) on the wire: GitSlotPark callbacks in both dialects, with
replays, conflicting replays, rollbacks and late originals, records aged out of Redis at random
points and a clock moved within the aged-id horizon, checked against the plain model of
tests/test_model.py and a model of the signature registry (one sign, one body: a Deposit with a
Withdraw's fields signs the same, and is refused with 3)."""

from __future__ import annotations

import tempfile
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import fakeredis
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tests.conftest import AGENT, REAL_REDIS_URL, Operator, Provider, forget, fresh_sqlite, gsp_sign, make_env
from tests.test_gitslotpark_agent_dialect import agent_sign
from tests.test_gitslotpark_agent_dialect import call as agent_call
from tests.test_model import HORIZON, Model
from wallet import create_app
from wallet.core.store import close, connect
from wallet.core.wallet import Outcome
from wallet.ledger import db
from wallet.ledger.archive import prune
from wallet.ledger.snapshot import drain_once

PLAYERS = ("ann", "bob")
TXS = ("1", "2", "3", "4")
AMOUNTS = st.sampled_from((0, 1, 50, 250, 1000))
#: GitSlotPark's code for each outcome (duplicates answer as the first time).
CODES = {
    Outcome.OK: 0,
    Outcome.DUPLICATE: 0,
    Outcome.CONFLICT: 2,
    Outcome.NO_FUNDS: 6,
    Outcome.NOT_FOUND: 8,
    Outcome.ROLLED_BACK: 9,
}
BAD_SIGN = 3


class WireMachine(RuleBasedStateMachine):
    """What every wire machine shares: the snapshot job ages records, time passes within the
    horizon, and the teardown (the machine makes ``client``, ``prefix``, ``folder``, ``store``,
    ``engine`` and ``moved``, the clock's offset)."""

    horizon = HORIZON
    client: Any
    prefix: str
    folder: Any
    store: Any
    engine: Any
    moved: float

    def teardown(self) -> None:
        self.engine.dispose()
        self.folder.cleanup()
        if REAL_REDIS_URL:
            forget(self.client, self.prefix)
        else:
            close(self.client)

    @rule()
    def age(self) -> None:
        """The snapshot job drains, then moves every record (retention 0) out to the aged-id filter."""
        drain_once(self.store, self.engine)
        prune(self.store, self.engine, timedelta(0))

    @rule(days=st.integers(min_value=1, max_value=12))
    def advance(self, days: int) -> None:
        """Time passes, within the horizon since the first record aged."""
        self.moved = min(self.moved + days * 86400, self.horizon.total_seconds() - 3600)


class ClassicMachine(WireMachine):
    dialect = "classic"

    def __init__(self) -> None:
        super().__init__()
        self.client = connect(REAL_REDIS_URL) if REAL_REDIS_URL else fakeredis.FakeRedis(decode_responses=True)
        self.prefix = f"wire-{uuid.uuid4().hex[:10]}"
        self.folder = tempfile.TemporaryDirectory()
        env = make_env(
            self.prefix,
            fresh_sqlite(Path(self.folder.name)),
            GITSLOTPARK_DIALECT=self.dialect,
            WALLET_AGED_HORIZON=f"{HORIZON.days}d",
        )
        self.app = create_app(env, client=self.client)
        self.store, self.engine = self.app.extensions["wallet"].store, self.app.extensions["wallet"].db
        db.migrate(self.engine)
        start, self.moved = self.store.clock(), 0.0
        self.store.clock = lambda: start + self.moved
        self.http = self.app.test_client()
        self.model = Model(
            balance=dict.fromkeys(PLAYERS, 5000), unit=dict.fromkeys(PLAYERS, 2), currency=dict.fromkeys(PLAYERS, "EUR")
        )
        for player in PLAYERS:
            Operator(self.http).create(player, balance="50.00")
        self.rollbacks = 0
        self.signs: dict[str, tuple[str, list[tuple[str, Any]]]] = {}  # sign -> the body it was accepted with

    def send(self, operation: str, **fields: Any) -> int:
        """One signed callback; its result code."""
        if self.dialect == "agent":
            return int(agent_call(self.http, operation, **fields)["code"])
        return int(Provider(self.http).call(operation, **fields)["result"])

    def claimed(self, operation: str, **fields: Any) -> bool:
        """The signature registry, modelled: False when the sign of this body was accepted before
        with another body (the wallet then answers 3 and nothing else happens)."""
        body = {"agentID": AGENT, **fields}
        sign = agent_sign(operation, body) if self.dialect == "agent" else gsp_sign(operation, body)
        first = self.signs.setdefault(sign, (operation, sorted(body.items())))
        return first == (operation, sorted(body.items()))

    def game(self) -> dict[str, Any]:
        return {"gameID": 7} if self.dialect == "agent" else {}

    @rule(player=st.sampled_from(PLAYERS), tx=st.sampled_from(TXS), amount=AMOUNTS, round_id=st.sampled_from("xy"))
    def withdraw(self, player: str, tx: str, amount: int, round_id: str) -> None:
        # the single GitSlotPark account: two decimals on the wire, players of at most two ("2")
        fields = {"userID": player, "amount": f"{Decimal(amount) / 100:.2f}", "transactionID": tx, "roundID": round_id}
        fields |= self.game()
        if not self.claimed("Withdraw", **fields):
            assert self.send("Withdraw", **fields) == BAD_SIGN
            return
        key, fp = ("gitslotpark", player, tx), ("bet", amount, 0, round_id, 2)
        expected = self.model.move(key, fp, (amount, 0, 2), "2", checks=True)
        got = self.send("Withdraw", **fields)
        assert got == CODES[expected], f"Withdraw {tx}: {got}, the model {expected}"

    @rule(player=st.sampled_from(PLAYERS), tx=st.sampled_from(TXS), amount=AMOUNTS, round_id=st.sampled_from("xy"))
    def deposit(self, player: str, tx: str, amount: int, round_id: str) -> None:
        fields = {"userID": player, "amount": f"{Decimal(amount) / 100:.2f}", "transactionID": tx, "roundID": round_id}
        fields |= self.game()
        if not self.claimed("Deposit", **fields):
            assert self.send("Deposit", **fields) == BAD_SIGN
            return
        key, fp = ("gitslotpark", player, tx), ("win", 0, amount, round_id, 2)
        expected = self.model.move(key, fp, (0, amount, 2), "2", credit=True)
        got = self.send("Deposit", **fields)
        assert got == CODES[expected], f"Deposit {tx}: {got}, the model {expected}"

    @rule(player=st.sampled_from(PLAYERS), tx=st.sampled_from(TXS))
    def rollback(self, player: str, tx: str) -> None:
        fields = {"userID": player, "transactionID": tx}
        if self.dialect == "agent":  # the rollback's own id: a new one each time
            self.rollbacks += 1
            fields = {"userID": player, "transactionID": f"rb{self.rollbacks}", "refTransactionID": tx}
        if not self.claimed("RollbackTransaction", **fields):
            assert self.send("RollbackTransaction", **fields) == BAD_SIGN
            return
        expected = self.model.reverse("gitslotpark", player, [tx], named=tx)
        got = self.send("RollbackTransaction", **fields)
        assert got == CODES[expected], f"Rollback {tx}: {got}, the model {expected}"

    @invariant()
    def balances_agree(self) -> None:
        for player in PLAYERS:
            got = Operator(self.http).balance(player)
            assert Decimal(got) * 100 == self.model.balance[player], player


class AgentMachine(ClassicMachine):
    dialect = "agent"


ClassicMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=30, deadline=None)
AgentMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=30, deadline=None)
test_classic_dialect_matches_model = ClassicMachine.TestCase
test_agent_dialect_matches_model = AgentMachine.TestCase
