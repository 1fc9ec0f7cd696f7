"""Throttling of sign-ins and bearer keys, per surface, per client address and per user name.

Counters live in Redis (every worker sees them), one key per surface and address or name,
expiring with their window. An attempt is reserved atomically against its counters before any
secret is checked (lua/throttle.lua), so a burst of parallel attempts gets no more tries than the
limit; a right secret gives the address's attempt back and clears the name's counter. Past a
limit the caller answers 429 with Retry-After until the window ends. The back office and the API
count apart; a valid API key is always accepted, whatever others sent from its address (the keys
are 256-bit random: there is nothing to guess). Each refusal is logged and counted, never with
the secret that was tried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from prometheus_client import Counter

from wallet.context import services

WINDOW = 15 * 60  # seconds an attempt is remembered
PER_ADDRESS = 20  # attempts from one client address within the window
PER_USER = 5  # attempts for one user name within the window

FAILURES = Counter("wallet_auth_failures_total", "Failed sign-ins and bearer keys, by surface.", ["surface"])
THROTTLED = Counter(
    "wallet_auth_throttled_total", "Attempts refused with 429 by the throttle, by surface.", ["surface"]
)
log = logging.getLogger("wallet.auth")


@dataclass(frozen=True)
class Subject:
    """Whose attempts count: a surface, a client address, and the user name tried (None for keys)."""

    surface: str  # backoffice | api
    address: str
    user: str | None = None

    def counters(self) -> list[tuple[str, int]]:
        found = [(f"{self.surface}:addr:{self.address}", PER_ADDRESS)]
        return found + ([(f"{self.surface}:user:{self.user}", PER_USER)] if self.user else [])


def reserve(subject: Subject) -> int | None:
    """Count this attempt before its secret is checked: None when it may go on, else the seconds
    until it may try again (the attempt is refused without being checked)."""
    wait = services().store.reserve_attempt(subject.counters(), WINDOW)
    if wait is None:
        return None
    THROTTLED.labels(subject.surface).inc()
    who = f" as {subject.user!r}" if subject.user else ""
    log.warning("auth throttled: %s from %s%s for %d s", subject.surface, subject.address, who, wait)
    return wait


def failed(subject: Subject) -> None:
    """Log and count a wrong secret (its attempt is already counted; the secret is never kept)."""
    FAILURES.labels(subject.surface).inc()
    who = f" as {subject.user!r}" if subject.user else ""
    log.warning("auth failed: %s from %s%s", subject.surface, subject.address, who)


def succeeded(subject: Subject) -> None:
    """A right secret: the address gets its attempt back and the user starts afresh."""
    store = services().store
    store.give_back_attempt(subject.counters()[0][0])
    if subject.user:
        store.clear_auth_failures([f"{subject.surface}:user:{subject.user}"])
