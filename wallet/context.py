"""The per-app objects (settings, store, wallet) kept in ``app.extensions`` and how views reach them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.engine import Engine

from wallet.config import Settings
from wallet.core.store import Store
from wallet.core.wallet import Wallet
from wallet.ops.guard import Watch


@dataclass(frozen=True)
class Services:
    """What every request handler needs, built once by create_app."""

    settings: Settings
    store: Store
    wallet: Wallet
    db: Engine  # the durable store (connects on first use)
    platforms: dict[str, dict[str | None, Any]]  # provider -> account currency (None: any) -> platform client
    redis_watch: Watch  # the eviction policy, re-read while running


def services() -> Services:
    """The current app's Services."""
    return current_app.extensions["wallet"]  # type: ignore[no-any-return]
