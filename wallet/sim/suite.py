"""The conformance suite: the scenarios aggregators check before go-live, run against any URL.

Each scenario plays real signed callbacks and checks the answers and the balance. Scenarios
that need more than one funded player, or a blocked one, need the operator API; without it they
are reported as skipped, not passed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from wallet.sim.operator import OperatorApi
from wallet.sim.providers import Answer, Provider


class Skip(Exception):
    """The scenario cannot run here (it names what it needs)."""


@dataclass
class Context:
    """What scenarios share: the provider side, the test player, the operator API when given."""

    provider: Provider
    player: str
    ops: OperatorApi | None
    run: str  # unique per run: transaction ids never collide with an earlier run

    def tx(self, name: str) -> str:
        return f"{self.run}-{name}"

    def balance(self, player: str | None = None) -> int:
        answer = self.provider.balance(player or self.player)
        expect(answer, "OK")
        if answer.balance is None:
            raise AssertionError("balance missing from the answer")
        return answer.balance

    def fresh_player(self, suffix: str, amount: int, currency: str | None = None) -> str:
        """A player of this run holding exactly ``amount`` minor units (needs the operator API);
        in the provider's currency unless another is named (then ``amount`` is in whole units)."""
        if self.ops is None:
            raise Skip("needs the operator API (--api-key)")
        player = f"{self.player}-{suffix}"
        self.ops.ensure_player(player, currency or self.provider.currency)
        self.ops.set_status(player, "active")
        self.ops.withdraw_all(player)
        if amount:
            self.ops.deposit(player, str(amount) if currency else self.provider.shown(amount))
        self.provider.tokens[player] = self.ops.sign_in(player)
        return player


def expect(answer: Answer, code: str) -> None:
    if answer.code != code:
        raise AssertionError(f"expected {code}, got {answer.code} ({answer.raw})")


def expect_equal(actual: object, expected: object, what: str) -> None:
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected}, got {actual}")


SCENARIOS: list[tuple[str, Callable[[Context], None]]] = []


def scenario(name: str) -> Callable[[Callable[[Context], None]], Callable[[Context], None]]:
    def register(fn: Callable[[Context], None]) -> Callable[[Context], None]:
        SCENARIOS.append((name, fn))
        return fn

    return register


@scenario("balance of a known player")
def _balance_known(c: Context) -> None:
    c.balance()


@scenario("balance of an unknown player")
def _balance_unknown(c: Context) -> None:
    expect(c.provider.balance(f"nobody-{uuid.uuid4().hex[:8]}"), "NO_PLAYER")


@scenario("bet")
def _bet(c: Context) -> None:
    before = c.balance()
    answer = c.provider.bet(c.player, 100, c.tx("bet"), c.tx("r-bet"))
    expect(answer, "OK")
    expect_equal(answer.balance, before - 100, "balance after the bet")


@scenario("win after a bet")
def _win(c: Context) -> None:
    expect(c.provider.bet(c.player, 100, c.tx("win-bet"), c.tx("r-win")), "OK")
    before = c.balance()
    expect_equal(c.provider.win(c.player, 250, c.tx("win"), c.tx("r-win")).balance, before + 250, "balance")


@scenario("win without a bet")
def _win_alone(c: Context) -> None:
    before = c.balance()
    expect_equal(c.provider.win(c.player, 50, c.tx("lone-win"), c.tx("r-lone")).balance, before + 50, "balance")


@scenario("bet-win")
def _bet_win(c: Context) -> None:
    _needs_bet_win(c)
    before = c.balance()
    answer = c.provider.bet_win(c.player, 100, 300, c.tx("betwin"), c.tx("r-betwin"))
    expect(answer, "OK")
    expect_equal(answer.balance, before + 200, "balance after the bet-win")


@scenario("zero amounts")
def _zero(c: Context) -> None:
    before = c.balance()
    expect(c.provider.bet(c.player, 0, c.tx("zero-bet"), c.tx("r-zero")), "OK")
    expect(c.provider.win(c.player, 0, c.tx("zero-win"), c.tx("r-zero")), "OK")
    expect_equal(c.balance(), before, "balance")


@scenario("insufficient funds")
def _no_funds(c: Context) -> None:
    before = c.balance()
    expect(c.provider.bet(c.player, before + 100_000, c.tx("too-much"), c.tx("r-much")), "NO_FUNDS")
    expect_equal(c.balance(), before, "balance")


@scenario("duplicate bet, sequential")
def _duplicate(c: Context) -> None:
    before = c.balance()
    first = c.provider.bet(c.player, 100, c.tx("dup"), c.tx("r-dup"))
    again = c.provider.bet(c.player, 100, c.tx("dup"), c.tx("r-dup"))
    expect(first, "OK")
    expect(again, "OK")
    expect_equal(c.balance(), before - 100, "balance (applied once)")


@scenario("duplicate bet, 16 concurrent copies")
def _duplicate_concurrent(c: Context) -> None:
    before = c.balance()
    answers = _together(16, lambda i: c.provider.bet(c.player, 100, c.tx("cdup"), c.tx("r-cdup")))
    expect_equal({a.code for a in answers}, {"OK"}, "answers")
    expect_equal(c.balance(), before - 100, "balance (applied once)")


@scenario("conflicting replay")
def _conflict(c: Context) -> None:
    expect(c.provider.bet(c.player, 100, c.tx("conflict"), c.tx("r-conflict")), "OK")
    before = c.balance()
    expect(c.provider.bet(c.player, 200, c.tx("conflict"), c.tx("r-conflict")), "BAD_INPUT")
    expect_equal(c.balance(), before, "balance")


@scenario("same transaction id for two players")
def _two_players(c: Context) -> None:
    """Per player where the provider's ids are (shared live tables); refused where they are global (Hub88)."""
    other = c.fresh_player("b", 500)
    before = c.balance()
    expect(c.provider.bet(c.player, 100, c.tx("shared"), c.tx("r-shared")), "OK")
    second = c.provider.bet(other, 100, c.tx("shared"), c.tx("r-shared"))
    if not c.provider.ids_per_player:
        expect(second, "BAD_INPUT")
    expect_equal(c.balance(other), 400 if c.provider.ids_per_player else 500, "other's balance")
    expect_equal(c.balance(), before - 100, "balance")


@scenario("rollback of a bet")
def _rollback_bet(c: Context) -> None:
    before = c.balance()
    expect(c.provider.bet(c.player, 100, c.tx("rb-bet"), c.tx("r-rb1")), "OK")
    expect(c.provider.rollback(c.player, c.tx("rb-bet"), c.tx("rb-bet-x")), "OK")
    expect_equal(c.balance(), before, "balance")


@scenario("rollback of a win")
def _rollback_win(c: Context) -> None:
    """GitSlotPark rolls back a Deposit; an iGamingAce cancel refunds bets only and leaves a win."""
    before = c.balance()
    expect(c.provider.win(c.player, 100, c.tx("rb-win"), c.tx("r-rb2")), "OK")
    undone = c.provider.reverses_wins
    expect(c.provider.rollback(c.player, c.tx("rb-win"), c.tx("rb-win-x")), "OK" if undone else "NOT_FOUND")
    expect_equal(c.balance(), before if undone else before + 100, "balance")


@scenario("rollback of a bet-win")
def _rollback_bet_win(c: Context) -> None:
    _needs_bet_win(c)
    before = c.balance()
    expect(c.provider.bet_win(c.player, 100, 50, c.tx("rb-bw"), c.tx("r-rb3")), "OK")
    expect(c.provider.rollback(c.player, c.tx("rb-bw"), c.tx("rb-bw-x")), "OK")
    expect_equal(c.balance(), before, "balance")


@scenario("rollback before the bet, then the late bet")
def _rollback_first(c: Context) -> None:
    before = c.balance()
    expect(c.provider.rollback(c.player, c.tx("late"), c.tx("late-x")), c.provider.unseen_rollback_code)
    expect(c.provider.bet(c.player, 100, c.tx("late"), c.tx("r-late")), "ROLLED_BACK")
    expect_equal(c.balance(), before, "balance")


@scenario("repeated rollback")
def _rollback_twice(c: Context) -> None:
    expect(c.provider.bet(c.player, 100, c.tx("twice"), c.tx("r-twice")), "OK")
    expect(c.provider.rollback(c.player, c.tx("twice"), c.tx("twice-x1")), "OK")
    before = c.balance()
    expect(c.provider.rollback(c.player, c.tx("twice"), c.tx("twice-x2")), c.provider.repeat_rollback_code)
    expect_equal(c.balance(), before, "balance")


@scenario("win of a rolled-back bet")
def _win_rolled_back(c: Context) -> None:
    """Where a win names its bet (Hub88), a bet rolled back is paid nothing."""
    if not c.provider.wins_name_bets:
        raise Skip("its wins do not name their bet")
    before = c.balance()
    expect(c.provider.bet(c.player, 100, c.tx("wrb"), c.tx("r-wrb")), "OK")
    expect(c.provider.rollback(c.player, c.tx("wrb"), c.tx("wrb-x")), "OK")
    expect(c.provider.win(c.player, 500, c.tx("wrb-w"), c.tx("r-wrb")), "NOT_FOUND")
    expect_equal(c.balance(), before, "balance")


@scenario("bet after sign-out")
def _signed_out(c: Context) -> None:
    """Where calls carry the session's token (Hub88), a bet after sign-out is refused as expired."""
    if not c.provider.needs_tokens:
        raise Skip("its calls carry no session token")
    player = c.fresh_player("out", 500)
    assert c.ops is not None
    c.ops.sign_out(player)
    expect(c.provider.bet(player, 100, c.tx("out"), c.tx("r-out")), "NO_SESSION")
    c.provider.tokens[player] = c.ops.sign_in(player)
    expect_equal(c.balance(player), 500, "balance")


@scenario("invalid signature, tampered body")
def _tampered(c: Context) -> None:
    before = c.balance()
    expect(c.provider.tampered(c.player), "BAD_SIGN")
    expect_equal(c.balance(), before, "balance")


@scenario("malformed body")
def _malformed(c: Context) -> None:
    answer = c.provider.malformed()
    if answer.code not in ("BAD_INPUT", "BAD_SIGN"):
        raise AssertionError(f"expected BAD_INPUT, got {answer.code}")


@scenario("blocked player")
def _blocked(c: Context) -> None:
    player = c.fresh_player("blocked", 500)
    assert c.ops is not None
    c.ops.set_status(player, "blocked")
    try:
        expect(c.provider.bet(player, 100, c.tx("blocked-bet"), c.tx("r-blocked")), c.provider.blocked_code)
        expect_equal(c.provider.win(player, 100, c.tx("blocked-win"), c.tx("r-blocked")).balance, 600, "win")
    finally:
        c.ops.set_status(player, "active")


@scenario("player of another currency")
def _other_currency(c: Context) -> None:
    if c.provider.foreign is None:
        raise Skip(f"the account takes every currency ({c.provider.currency} players here)")
    player = c.fresh_player(c.provider.foreign.lower(), 5, currency=c.provider.foreign)
    assert c.ops is not None
    before = c.ops.player(player)["balance"]
    expect(c.provider.bet(player, 100, c.tx("foreign"), c.tx("r-foreign")), c.provider.currency_code)
    expect_equal(c.ops.player(player)["balance"], before, "that player's balance")


@scenario("20 concurrent bets on one player")
def _concurrent_bets(c: Context) -> None:
    player = c.fresh_player("race", 1000)
    answers = _together(20, lambda i: c.provider.bet(player, 100, c.tx(f"race-{i}"), c.tx("r-race")))
    expect_equal(sum(a.code == "OK" for a in answers), 10, "bets accepted from a 10.00 balance")
    expect_equal(sum(a.code == "NO_FUNDS" for a in answers), 10, "bets refused")
    expect_equal(c.balance(player), 0, "balance")


def _needs_bet_win(c: Context) -> None:
    if not c.provider.has_bet_win:
        raise Skip("the provider has no combined bet-and-win call")


def _together(count: int, call: Callable[[int], Answer]) -> list[Answer]:
    barrier = threading.Barrier(count)

    def run(i: int) -> Answer:
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def prepare(provider: Provider, player: str, ops: OperatorApi | None) -> Context:
    """The context of a run; with the operator API the player is created, funded and signed in."""
    if ops is not None:
        ops.ensure_player(player, provider.currency)
        ops.set_status(player, "active")
        ops.deposit(player, provider.shown(10_000))
        provider.tokens[player] = ops.sign_in(player)
    return Context(provider, player, ops, run=uuid.uuid4().hex[:10])


def run_suite(context: Context) -> list[tuple[str, str, str]]:
    """(scenario, PASS | FAIL | SKIP, detail) for every scenario, in order."""
    results = []
    for name, fn in SCENARIOS:
        try:
            fn(context)
            results.append((name, "PASS", ""))
        except Skip as skip:
            results.append((name, "SKIP", str(skip)))
        except Exception as exc:  # a scenario failing in any way is a FAIL line, never a crash
            results.append((name, "FAIL", f"{exc.__class__.__name__}: {exc}"[:200]))
    return results


def table(results: list[tuple[str, str, str]]) -> str:
    width = max(len(name) for name, _, _ in results)
    lines = [f"{name:<{width}}  {status}  {detail}".rstrip() for name, status, detail in results]
    passed = sum(status == "PASS" for _, status, _ in results)
    failed = sum(status == "FAIL" for _, status, _ in results)
    skipped = sum(status == "SKIP" for _, status, _ in results)
    return "\n".join([*lines, f"{passed} passed, {failed} failed, {skipped} skipped"])
