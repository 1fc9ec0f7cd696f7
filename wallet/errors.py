"""The wallet's exceptions, in one place.

    WalletError
    ├── ConfigError        a setting is missing or malformed (start-up stops, one line)
    └── StoreUnavailable   Redis is unreachable or timed out (callbacks answer HTTP 503)
        └── StoreFull      Redis refused a write at maxmemory (HTTP 503 too; nothing applied)

Business outcomes (insufficient funds, unknown player...) are not exceptions: they are
`wallet.core.wallet.Outcome` values returned by the core.
"""

from __future__ import annotations


class WalletError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(WalletError):
    """A setting is missing or malformed; the message starts with the variable's name."""


class StoreUnavailable(WalletError):
    """The store (Redis) could not be reached or did not answer in time."""


class StoreFull(StoreUnavailable):
    """Redis is at maxmemory with noeviction and refused a write (nothing was applied)."""
