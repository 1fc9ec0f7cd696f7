"""The game aggregators: one sub-package each (callbacks, schemas, platform client), registered here.

Adding a provider is one folder exposing a ``PROVIDER`` and one line in ``REGISTRY``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask

from wallet.config import Settings
from wallet.core.store import Store
from wallet.core.wallet import Wallet


@dataclass(frozen=True)
class Provider:
    """What the service needs to know of one aggregator."""

    name: str
    accounts: Callable[[Settings], tuple[Any, ...]]  # its configured accounts (each bound to a currency or None)
    init_app: Callable[[Flask, tuple[Any, ...], Wallet], None]  # serve the accounts' callbacks
    client: Callable[[Any, requests.Session, float, Store], Any]  # an account's platform client, or None
    openapi: Callable[[Any, tuple[Any, ...]], None]  # add its callback paths to the OpenAPI document
    sign: Callable[[Any, str, bytes], str]  # (account, operation, JSON body): what the provider would send to
    # authenticate that body (`wallet sign`); ValueError naming what is wrong
    names_grants: bool = False  # its free-spin callbacks name the grant (else: flagged free spins only)


def names() -> tuple[str, ...]:
    return tuple(provider.name for provider in registry())


def find(name: str) -> Provider:
    return next(provider for provider in registry() if provider.name == name)


def registry() -> tuple[Provider, ...]:
    """Every provider, in the order they are listed to operators."""
    from wallet.providers import gitslotpark, igamingace

    return (gitslotpark.PROVIDER, igamingace.PROVIDER)
