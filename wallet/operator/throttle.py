"""Throttling of failed sign-ins and failed bearer keys, per client address and per user name.

Counters live in Redis (every worker sees them), one key per address or name, expiring with
their window. Past the limit the caller answers 429 with Retry-After until the window ends; each
refusal is logged and counted, never with the secret that was tried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from prometheus_client import Counter

from wallet.context import services

WINDOW = 15 * 60  # seconds a failure is remembered
PER_ADDRESS = 20  # failures from one client address within the window
PER_USER = 5  # failures for one user name within the window

FAILURES = Counter("wallet_auth_failures_total", "Failed sign-ins and bearer keys, by surface.", ["surface"])
THROTTLED = Counter(
    "wallet_auth_throttled_total", "Attempts refused with 429 by the throttle, by surface.", ["surface"]
)
log = logging.getLogger("wallet.auth")


@dataclass(frozen=True)
class Subject:
    """Whose failures count: a client address, and the user name tried (None for bearer keys)."""

    surface: str  # backoffice | api
    address: str
    user: str | None = None

    def counters(self) -> list[tuple[str, int]]:
        found = [(f"addr:{self.address}", PER_ADDRESS)]
        return found + ([(f"user:{self.user}", PER_USER)] if self.user else [])


def retry_after(subject: Subject) -> int | None:
    """Seconds until this subject may try again, or None when it may now."""
    counts = services().store.auth_failures([name for name, _ in subject.counters()])
    waits = [ttl for (count, ttl), (_, limit) in zip(counts, subject.counters(), strict=True) if count >= limit]
    if not waits:
        return None
    THROTTLED.labels(subject.surface).inc()
    log.warning(
        "auth throttled: %s from %s%s for %d s",
        subject.surface,
        subject.address,
        f" as {subject.user!r}" if subject.user else "",
        max(waits),
    )
    return max(max(waits), 1)


def failed(subject: Subject) -> None:
    """Count a failure (the secret tried is neither stored nor logged)."""
    FAILURES.labels(subject.surface).inc()
    services().store.count_auth_failure([name for name, _ in subject.counters()], WINDOW)
    who = f" as {subject.user!r}" if subject.user else ""
    log.warning("auth failed: %s from %s%s", subject.surface, subject.address, who)


def succeeded(subject: Subject) -> None:
    """A user who got in starts afresh (the address's count stays)."""
    if subject.user:
        services().store.clear_auth_failures([f"user:{subject.user}"])
