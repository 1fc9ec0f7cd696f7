"""Simulated play: many players, rounds at a target rate, with retries, duplicates and rollbacks
injected; at the end every player's balance must equal its opening balance plus what was applied.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from wallet.sim.providers import Answer, Provider


@dataclass
class Rates:
    """Probabilities per round of each injected fault."""

    retry: float = 0.05  # the bet is sent again after its answer (a provider retry)
    duplicate: float = 0.05  # the bet is sent twice at once
    rollback: float = 0.05  # the bet is rolled back after its answer
    bet_win: float = 0.2  # the round is one bet-win call instead of bet + win


@dataclass
class Tally:
    """What the simulator knows was applied, per player, and every call's latency."""

    applied: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, answer: Answer, player: str = "", delta: int = 0, applied: tuple[str, ...] = ("OK",)) -> Answer:
        """Count the call; ``applied``: the codes that mean the change is in the wallet."""
        with self.lock:
            self.latencies.append(answer.seconds)
            if answer.code in applied:
                self.applied[player] += delta
            elif answer.code != "NO_FUNDS":
                self.errors[answer.code] += 1
        return answer


def retrying(call: Callable[[], Answer], attempts: int = 20) -> Answer:
    """Send again after a transport failure or a 5xx, as providers do (safe: every call is idempotent)."""
    for _ in range(attempts - 1):
        try:
            answer = call()
        except requests.RequestException:
            time.sleep(0.05)
            continue
        if not answer.code.startswith("HTTP 5"):
            return answer
        time.sleep(0.05)
    return call()


def play_round(
    provider: Provider, player: str, round_no: int, run: str, rates: Rates, tally: Tally, rng: random.Random
) -> None:
    """One round: a bet (faults injected around it), then its win; or one bet-win."""
    bet = rng.randint(10, 200)
    win = rng.choice((0, 0, bet // 2, bet * 2))
    tx, round_id = f"{run}-{round_no}", f"{run}-r{round_no}"
    if provider.has_bet_win and rng.random() < rates.bet_win:
        tally.record(retrying(lambda: provider.bet_win(player, bet, win, tx, round_id)), player, win - bet)
        return
    answers = _send_bet(provider, player, bet, tx, round_id, rates, rng)
    if not any(a.code == "OK" for a in answers):
        for answer in answers:
            tally.record(answer)
        return
    tally.record(answers[0], player, -bet)  # applied once, however many copies were answered OK
    for answer in answers[1:]:
        tally.record(answer)
    if rng.random() < rates.rollback:
        # Each bet is rolled back at most once, so "already rolled back" means our own earlier
        # attempt went through and only its answer was lost (a rollback without an id of its own).
        tally.record(retrying(lambda: provider.rollback(player, tx, f"{tx}-x")), player, bet, ("OK", "ROLLED_BACK"))
    elif win:
        tally.record(retrying(lambda: provider.win(player, win, f"{tx}-w", round_id)), player, win)


def _send_bet(
    provider: Provider, player: str, bet: int, tx: str, round_id: str, rates: Rates, rng: random.Random
) -> list[Answer]:
    send: Callable[[], Answer] = lambda: retrying(lambda: provider.bet(player, bet, tx, round_id))  # noqa: E731
    if rng.random() < rates.duplicate:
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _: send(), range(2)))
        return sorted(answers, key=lambda a: a.code != "OK")
    answers = [send()]
    if rng.random() < rates.retry:
        answers.append(send())
    return sorted(answers, key=lambda a: a.code != "OK")


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def play(
    provider: Provider,
    players: list[str],
    rate: float,
    seconds: float,
    threads: int,
    rates: Rates,
    run: str,
    tick: Callable[[float], None] = lambda elapsed: None,
    seed: int = 1,
) -> Tally:
    """Play rounds at ``rate`` per second for ``seconds`` from ``threads`` workers."""
    tally, counter, lock = Tally(), iter(range(10**9)), threading.Lock()
    started = time.monotonic()

    def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        while True:
            with lock:
                n = next(counter)
            due = started + n / rate
            if due - started >= seconds:
                return
            time.sleep(max(0.0, due - time.monotonic()))
            play_round(provider, players[n % len(players)], n, run, rates, tally, rng)

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    while any(t.is_alive() for t in pool):
        time.sleep(0.2)
        tick(min(seconds, time.monotonic() - started))
    return tally
