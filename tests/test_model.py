"""Property-based (hypothesis, stateful): random interleavings of every wallet operation over
players of several currencies (EUR, JPY with no decimals, BTC with eight, and a JPY player kept in
hundredths by an earlier version) and both providers, amounts given at any number of decimals and
accounts bound to a currency or not, checked step by step against a plain Python model of the wallet,
with records moved out of Redis (drained to SQL, aged into the aged-id filter), Redis lost and
restored from SQL, at random points, and a clock moved forward within the aged-id horizon:
exactly-once must not notice any of it."""

from __future__ import annotations

import dataclasses
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import fakeredis
import sqlalchemy as sa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tests.conftest import MONEY_KINDS, REAL_REDIS_URL, forget, old_player
from wallet.core import journal, money
from wallet.core.store import Store, connect
from wallet.core.wallet import Move, Outcome, Wallet
from wallet.ledger import db, recovery
from wallet.ledger.archive import SqlArchive, prune
from wallet.ledger.snapshot import drain_once

HORIZON = timedelta(days=30)

CURRENCY = {"ann": "EUR", "bob": "JPY", "cyd": "BTC", "old": "JPY"}
UNIT = {"ann": 2, "bob": 0, "cyd": 8, "old": 2}  # "old" was opened before units: hundredths
PLAYERS = tuple(CURRENCY)
PROVIDERS = ("gitslotpark", "igamingace")
TXS = ("1", "2", "3", "4", "5")
ROUNDS = ("r1", "r2")
AMOUNTS = st.sampled_from((0, 1, 50, 100, 250, 1000))
EXPS = st.sampled_from((None, None, 0, 2, 8))  # decimals of the amounts as sent; None: the player's own
ACCEPTS = st.sampled_from(("", "", "2", "EUR", "JPY"))  # the account's currency condition (Move.currency)


def in_unit(unit: int, amount: int, exp: int) -> int | None:
    """``amount`` (``exp`` decimals) in a player's ``unit``; None when it has more decimals than that."""
    shift = unit - exp
    if shift >= 0:
        return amount * 10**shift
    return None if amount % 10**-shift else amount // 10**-shift


def refuses(accept: str, unit: int, currency: str) -> bool:
    """True when an account with this condition may not serve a player of this unit and currency."""
    if accept.isdigit():
        return unit > int(accept)
    return accept not in ("", currency)


@dataclass
class Record:
    state: str  # A applied, R reversed, C cancelled before arrival, X a cancel's own record
    delta: int = 0
    fingerprint: tuple[object, ...] = ()
    outcome: str = ""


@dataclass
class Model:
    """What the wallet should hold, in plain Python."""

    balance: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PLAYERS, 0))
    unit: dict[str, int] = field(default_factory=lambda: dict(UNIT))
    currency: dict[str, str] = field(default_factory=lambda: dict(CURRENCY))
    blocked: set[str] = field(default_factory=set)
    sessions: set[str] = field(default_factory=set)
    records: dict[tuple[str, str, str], Record] = field(default_factory=dict)
    rounds: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    closed: set[tuple[str, str]] = field(default_factory=set)  # (player, round) cancelled by round

    def move(
        self,
        key: tuple[str, str, str],
        fp: tuple[object, ...],
        amounts: tuple[int, int, int],
        accept: str = "",
        checks: bool = False,
        round_key: tuple[str, str] | None = None,
        credit: bool = False,
    ) -> Outcome:
        """A bet, win, bet-win or cashier movement; ``amounts``: bet, win and their decimals;
        ``checks``: blocked and session (iGamingAce) apply; ``round_key``: an iGamingAce bet's
        (player, round), refused once that round was cancelled by round; ``credit``: a win or deposit,
        never refused for funds (a balance below zero after a reversed win still takes it)."""
        provider, player, _ = key
        bet, win, exp = amounts
        if key in self.records:
            record = self.records[key]
            if record.state == "C":
                return Outcome.ROLLED_BACK
            return Outcome.DUPLICATE if record.fingerprint == fp else Outcome.CONFLICT
        if checks and player in self.blocked:
            return Outcome.BLOCKED
        if checks and provider == "igamingace" and player not in self.sessions:
            return Outcome.NO_SESSION
        if self.refuses(accept, player):
            return Outcome.CURRENCY
        if round_key in self.closed:
            return Outcome.ROLLED_BACK
        bet_, win_ = in_unit(self.unit[player], bet, exp), in_unit(self.unit[player], win, exp)
        if bet_ is None or win_ is None:
            return Outcome.BAD_AMOUNT
        if not credit and self.balance[player] - bet_ < 0:
            return Outcome.NO_FUNDS
        self.balance[player] += win_ - bet_
        self.records[key] = Record("A", win_ - bet_, fp)
        return Outcome.OK

    def refuses(self, accept: str, player: str) -> bool:
        return refuses(accept, self.unit[player], self.currency[player])

    def reverse(self, provider: str, player: str, targets: list[str], named: str | None) -> Outcome:
        reversed_any, seen = False, False
        for tx in sorted(targets):
            record = self.records.get((provider, player, tx))
            seen = seen or record is not None
            if record is not None and record.state == "A":
                self.balance[player] -= record.delta
                record.state, reversed_any = "R", True
        if reversed_any:
            return Outcome.OK
        if seen:
            return Outcome.ROLLED_BACK
        if named is not None:
            self.records[(provider, player, named)] = Record("C")
        return Outcome.NOT_FOUND


class WalletMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        if REAL_REDIS_URL:
            self.client = connect(REAL_REDIS_URL)
        else:
            self.client = fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)
        self.prefix = f"model-{uuid.uuid4().hex[:10]}"
        self.folder = tempfile.TemporaryDirectory()
        self.engine = db.connect(f"sqlite:///{Path(self.folder.name) / 'w.db'}")
        db.migrate(self.engine)
        store = Store(self.client, self.prefix, HORIZON)
        self.now, self.moved = store.clock(), 0.0
        store.clock = lambda: self.now + self.moved
        self.wallet = Wallet(store, SqlArchive(self.engine))
        self.model = Model()
        money.configure({"BTC": 8})
        for player, currency in CURRENCY.items():
            if player == "old":
                old_player(store, player, currency, 0)
            else:
                assert self.wallet.create_player(player, currency).outcome is Outcome.OK

    def teardown(self) -> None:
        forget(self.client, self.prefix)
        self.engine.dispose()
        self.folder.cleanup()

    def check(self, got: Outcome, expected: Outcome) -> None:
        assert got is expected, f"wallet said {got}, the model {expected}"

    @rule(
        provider=st.sampled_from(PROVIDERS),
        player=st.sampled_from(PLAYERS),
        tx=st.sampled_from(TXS),
        amount=AMOUNTS,
        round_id=st.sampled_from(ROUNDS),
        exp=EXPS,
        accept=ACCEPTS,
    )
    def bet(
        self, provider: str, player: str, tx: str, amount: int, round_id: str, exp: int | None, accept: str
    ) -> None:
        ace, exp = provider == "igamingace", UNIT[player] if exp is None else exp
        move = Move(provider, player, tx, bet=amount, round=round_id, currency=accept, exp=exp)
        move = dataclasses.replace(move, need_session=ace, index_round=ace)
        fp = ("bet", amount, 0, round_id, exp)
        round_key = (player, round_id) if ace else None
        expected = self.model.move((provider, player, tx), fp, (amount, 0, exp), accept, True, round_key)
        if expected is Outcome.OK and ace:
            self.model.rounds.setdefault((player, round_id), set()).add(tx)
        self.check(self.wallet.debit(move).outcome, expected)

    @rule(
        provider=st.sampled_from(PROVIDERS),
        player=st.sampled_from(PLAYERS),
        tx=st.sampled_from(TXS),
        amount=AMOUNTS,
        round_id=st.sampled_from(ROUNDS),
        exp=EXPS,
        accept=ACCEPTS,
    )
    def win(
        self, provider: str, player: str, tx: str, amount: int, round_id: str, exp: int | None, accept: str
    ) -> None:
        exp = UNIT[player] if exp is None else exp
        move = Move(provider, player, tx, win=amount, round=round_id, currency=accept, exp=exp)
        fp = ("win", 0, amount, round_id, exp)
        expected = self.model.move((provider, player, tx), fp, (0, amount, exp), accept, credit=True)
        self.check(self.wallet.credit(move).outcome, expected)

    @rule(
        provider=st.sampled_from(PROVIDERS),
        player=st.sampled_from(PLAYERS),
        tx=st.sampled_from(TXS),
        bet=AMOUNTS,
        win=AMOUNTS,
        exp=EXPS,
    )
    def bet_win(self, provider: str, player: str, tx: str, bet: int, win: int, exp: int | None) -> None:
        exp = UNIT[player] if exp is None else exp
        move = Move(provider, player, tx, bet=bet, win=win, round="bw", exp=exp, need_session=provider == "igamingace")
        fp = ("betwin", bet, win, "bw", exp)
        expected = self.model.move((provider, player, tx), fp, (bet, win, exp), checks=True)
        self.check(self.wallet.bet_win(move).outcome, expected)

    @rule(player=st.sampled_from(PLAYERS), tx=st.sampled_from(TXS), accept=ACCEPTS)
    def rollback(self, player: str, tx: str, accept: str) -> None:
        """GitSlotPark's rollback: no id of its own."""
        if self.model.refuses(accept, player):
            expected = Outcome.CURRENCY
        else:
            expected = self.model.reverse("gitslotpark", player, [tx], named=tx)
        self.check(self.wallet.rollback("gitslotpark", player, tx, currency=accept).outcome, expected)

    @rule(
        player=st.sampled_from(PLAYERS),
        own=st.sampled_from(("c1", "c2", "c3")),
        reference=st.one_of(st.none(), st.sampled_from(TXS)),
        round_id=st.sampled_from(ROUNDS),
        accept=ACCEPTS,
    )
    def cancel(self, player: str, own: str, reference: str | None, round_id: str, accept: str) -> None:
        """iGamingAce's cancel: its own id, the bet by reference or the round's bets."""
        key, fp = ("igamingace", player, own), ("cancel", reference or "", round_id)
        mine = self.model.records.get(key)
        if self.model.refuses(accept, player):
            expected = Outcome.CURRENCY
        elif mine is not None:
            expected = (
                Outcome.CONFLICT
                if mine.fingerprint != fp
                else (Outcome.DUPLICATE if mine.outcome == "OK" else Outcome(mine.outcome))
            )
        else:
            references = [reference] if reference else list(self.model.rounds.get((player, round_id), ()))
            expected = self.model.reverse("igamingace", player, references, named=reference)
            if reference is None:
                self.model.closed.add((player, round_id))
            self.model.records[key] = Record("X", fingerprint=fp, outcome=expected.value)
        result = self.wallet.rollback(
            "igamingace", player, reference or "", own_tx=own, kind="cancel", round_id=round_id, currency=accept
        )
        self.check(result.outcome, expected)

    @rule(player=st.sampled_from(PLAYERS), blocked=st.booleans())
    def set_status(self, player: str, blocked: bool) -> None:
        self.wallet.set_status(player, "blocked" if blocked else "active")
        (self.model.blocked.add if blocked else self.model.blocked.discard)(player)

    @rule(player=st.sampled_from(PLAYERS), signed_in=st.booleans())
    def session(self, player: str, signed_in: bool) -> None:
        if signed_in:
            self.wallet.open_session(player, 3600)
            self.model.sessions.add(player)
        else:
            self.wallet.close_session(player)
            self.model.sessions.discard(player)

    @rule(
        player=st.sampled_from(PLAYERS),
        key=st.sampled_from(("k1", "k2", "k3")),
        amount=AMOUNTS.filter(bool),
        deposit=st.booleans(),
        exp=EXPS,
    )
    def cashier(self, player: str, key: str, amount: int, deposit: bool, exp: int | None) -> None:
        """A deposit or withdrawal: never refused for a block, a withdrawal still needs the funds."""
        exp = UNIT[player] if exp is None else exp
        bet, win = (0, amount) if deposit else (amount, 0)
        fp = ("deposit" if deposit else "withdrawal", bet, win, "", exp)
        expected = self.model.move(("cashier", player, key), fp, (bet, win, exp), credit=deposit)
        move = Move("cashier", player, key, bet=bet, win=win, exp=exp, check_blocked=False)
        result = self.wallet.credit(move, kind="deposit") if deposit else self.wallet.debit(move, kind="withdrawal")
        self.check(result.outcome, expected)

    @rule()
    def age(self) -> None:
        """The snapshot job drains, then moves every record (retention 0) out to the aged-id filter."""
        drain_once(self.wallet.store, self.engine)
        prune(self.wallet.store, self.engine, timedelta(0))

    @rule()
    def lose_redis_and_restore(self) -> None:
        """Redis is lost after the worker drained it and rebuilt by `wallet restore` with every record
        past its retention (in the aged-id filter only). Sessions and round indexes are not restored."""
        store = self.wallet.store
        drain_once(store, self.engine)
        for key in self.client.scan_iter(match=f"{self.prefix}:*", count=1000):
            self.client.delete(key)
        recovery.restore(store, self.engine, timedelta(0), horizon=HORIZON)
        self.model.sessions.clear()
        self.model.rounds.clear()
        self.model.closed.clear()

    @rule(days=st.integers(min_value=1, max_value=12))
    def advance(self, days: int) -> None:
        """Time passes, never past the horizon since the first record aged (ids must still be known)."""
        self.moved = min(self.moved + days * 86400, HORIZON.total_seconds() - 3600)

    @invariant()
    def balances_and_ledger_agree(self) -> None:
        """After every step: balances equal the model's, and each player's ledger (SQL, then what the
        stream still holds) sums to its balance."""
        with self.engine.connect() as conn:
            drained = dict(
                conn.execute(
                    sa.select(db.ledger_entries.c.player, sa.func.sum(db.ledger_entries.c.amount)).group_by(
                        db.ledger_entries.c.player
                    )
                ).all()
            )
        for player in PLAYERS:
            assert self.wallet.player(player).balance == self.model.balance[player], player
            stream = self.wallet.store.keys(player).ledger
            total = int(drained.get(player) or 0) + sum(
                int(e["amount"])
                for e in map(journal.expand, (fields for _, fields in self.client.xrange(stream)))
                if e.get("player") == player and e["kind"] in MONEY_KINDS
            )
            assert total == self.model.balance[player], f"{player}'s ledger"


WalletMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=40, deadline=None)
test_wallet_matches_model = WalletMachine.TestCase
