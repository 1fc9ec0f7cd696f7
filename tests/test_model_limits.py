"""Property-based (hypothesis, stateful): random orders of bets, wins, bet-wins, rollbacks, limit
changes (tighter and looser) and a clock moving by hours and days, on the wallet, checked step by
step against a plain model of the limits: every refusal is the model's, no refused bet moves money,
and no accepted bet takes a period's net loss past a limit in force."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import fakeredis
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tests.conftest import REAL_REDIS_URL, forget
from wallet.core import limits
from wallet.core.store import Store, connect
from wallet.core.wallet import Move, Outcome, Wallet

COOLING = 86400
START = datetime(2026, 12, 30, 20, tzinfo=UTC).timestamp()  # a year, a month and a day end within reach
LIMIT_VALUES = st.sampled_from((None, 0, 100, 300, 1000))
AMOUNTS = st.sampled_from((0, 50, 100, 250))


@dataclass
class LimitModel:
    now: float = START
    balance: int = 100_000
    limits: dict[str, int] = field(default_factory=dict)
    pending: dict[str, tuple[int | None, float]] = field(default_factory=dict)
    used: dict[str, tuple[str, int]] = field(default_factory=dict)  # 'loss:day' -> (period id, amount)
    bets: dict[str, int] = field(default_factory=dict)  # applied and not yet rolled back: tx -> delta
    counting: bool = False  # the player has a limits hash (from the first limit set): play is counted

    def due(self) -> None:
        for name, (value, at) in list(self.pending.items()):
            if at <= self.now:
                del self.pending[name]
                self.limits.pop(name, None)
                if value is not None:
                    self.limits[name] = value

    def loss(self, period: str) -> int:
        ids = dict(zip(limits.PERIODS, limits.period_ids(self.now, UTC_ZONE), strict=True))
        period_id, amount = self.used.get(f"loss:{period}", ("", 0))
        return amount if period_id == ids[period] else 0

    def count(self, delta: int) -> None:
        if not self.counting:
            return
        ids = dict(zip(limits.PERIODS, limits.period_ids(self.now, UTC_ZONE), strict=True))
        for period in limits.PERIODS:
            self.used[f"loss:{period}"] = (ids[period], self.loss(period) + delta)

    def bet(self, tx: str, stake: int, win: int = 0) -> Outcome:
        self.due()
        if self.limits.get("stake") is not None and stake > self.limits["stake"]:
            return Outcome.LIMIT
        for period in limits.PERIODS:
            limit = self.limits.get(f"loss:{period}")
            if limit is not None and self.loss(period) + stake - win > limit:
                return Outcome.LIMIT
        self.count(stake - win)
        self.balance += win - stake
        self.bets[tx] = win - stake
        return Outcome.OK

    def set(self, name: str, value: int | None) -> None:
        self.due()
        current = self.limits.get(name)
        if current is not None and (value is None or value > current):
            self.pending[name] = (value, self.now + COOLING)
        else:
            if value is not None:
                self.limits[name] = value
                self.counting = True
            self.pending.pop(name, None)


UTC_ZONE = __import__("zoneinfo").ZoneInfo("UTC")


class LimitsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.client = connect(REAL_REDIS_URL) if REAL_REDIS_URL else fakeredis.FakeRedis(decode_responses=True)
        self.prefix = f"lim-{uuid.uuid4().hex[:10]}"
        store = Store(self.client, self.prefix, timedelta(days=30))
        self.model = LimitModel()
        store.clock = lambda: self.model.now
        self.wallet = Wallet(store)
        self.wallet.create_player("p", "EUR")
        self.wallet.credit(Move("cashier", "p", "seed", win=self.model.balance), kind="deposit")
        self.n = 0

    def teardown(self) -> None:
        forget(self.client, self.prefix)

    def tx(self) -> str:
        self.n += 1
        return f"t{self.n}"

    @rule(stake=AMOUNTS)
    def bet(self, stake: int) -> None:
        tx = self.tx()
        expected = self.model.bet(tx, stake)
        got = self.wallet.debit(Move("gitslotpark", "p", tx, bet=stake)).outcome
        assert got is expected, f"bet {stake}: wallet {got}, model {expected}"

    @rule(stake=AMOUNTS, win=AMOUNTS)
    def bet_win(self, stake: int, win: int) -> None:
        tx = self.tx()
        expected = self.model.bet(tx, stake, win)
        got = self.wallet.bet_win(Move("gitslotpark", "p", tx, bet=stake, win=win)).outcome
        assert got is expected, f"bet-win {stake}/{win}: wallet {got}, model {expected}"

    @rule(win=AMOUNTS)
    def win(self, win: int) -> None:
        self.model.due()
        assert self.wallet.credit(Move("gitslotpark", "p", self.tx(), win=win)).outcome is Outcome.OK
        self.model.count(-win)
        self.model.balance += win

    @rule(data=st.data())
    def rollback(self, data: st.DataObject) -> None:
        if not self.model.bets:
            return
        tx = data.draw(st.sampled_from(sorted(self.model.bets)))
        self.model.due()
        delta = self.model.bets.pop(tx)
        assert self.wallet.rollback("gitslotpark", "p", tx).outcome is Outcome.OK
        self.model.count(delta)
        self.model.balance -= delta

    @rule(name=st.sampled_from(("stake", "loss:day", "loss:week", "loss:month")), value=LIMIT_VALUES)
    def set_limit(self, name: str, value: int | None) -> None:
        self.model.set(name, value)
        outcome, _ = self.wallet.set_limits("p", {name: value}, cooling_seconds=COOLING)
        assert outcome is Outcome.OK

    @rule(hours=st.sampled_from((1, 5, 23, 24, 25, 24 * 7)))
    def later(self, hours: int) -> None:
        self.model.now += hours * 3600

    @invariant()
    def agree(self) -> None:
        self.model.due()
        found = self.wallet.protection("p")
        assert found.limits == self.model.limits
        assert {n: v for n, v in found.used.items() if n.startswith("loss")} == {
            f"loss:{p}": self.model.loss(p) for p in limits.PERIODS
        }
        assert self.wallet.player("p").balance == self.model.balance


LimitsMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=40, deadline=None)
test_limits_match_model = LimitsMachine.TestCase
