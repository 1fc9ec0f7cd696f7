"""The game aggregators: one sub-package each (callbacks, schemas, platform client), registered here.

Adding a provider is one folder exposing a ``PROVIDER`` and one line in ``REGISTRY``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import requests
from flask import Flask
from marshmallow.fields import Field

from wallet.config import Settings
from wallet.core.store import Store
from wallet.core.wallet import Wallet


@dataclass(frozen=True)
class Provider:
    """What the service needs to know of one aggregator."""

    name: str
    settings: Callable[[Mapping[str, str], bool], tuple[Any, ...]]  # (env, embedded): its accounts read from
    # the environment (each bound to a currency or None; the demo account when embedded); ConfigError names
    # a bad one. The service keeps them in Settings.accounts[name].
    init_app: Callable[[Flask, tuple[Any, ...], Wallet], None]  # serve the accounts' callbacks
    client: Callable[[Any, requests.Session, float, Store], Any]  # an account's platform client, or None
    openapi: Callable[[Any, tuple[Any, ...]], None]  # add its callback paths to the OpenAPI document
    sign: Callable[[Any, str, bytes], str]  # (account, operation, JSON body): what the provider would send to
    # authenticate that body (`wallet sign`); ValueError naming what is wrong
    banner: Callable[[Any, str], list[tuple[str, str]]]  # (account, base URL): what `wallet serve` shows of a
    # demo account, as (label, value) lines
    names_grants: bool = False  # its free-spin callbacks name the grant (else: flagged free spins only)
    id_horizon: timedelta | None = None  # how long its transaction ids must stay recognised
    launch_fields: Mapping[str, Field[Any]] = field(default_factory=dict)  # the operator API's launch fields
    # it adds (schema attribute -> marshmallow field); its client's open_game reads them
    simulator: Callable[[str, Any, str, int], Any] | None = None  # (wallet URL, account, currency, decimals):
    # its side for `wallet simulate` (a wallet.sim.providers.Provider); ValueError naming what is missing

    def accounts(self, settings: Settings) -> tuple[Any, ...]:
        """Its configured accounts; () when it is not served."""
        return tuple(settings.accounts.get(self.name, ()))


def names() -> tuple[str, ...]:
    return tuple(provider.name for provider in registry())


def find(name: str) -> Provider:
    return next(provider for provider in registry() if provider.name == name)


def registry() -> tuple[Provider, ...]:
    """Every provider, in the order they are listed to operators."""
    from wallet.providers import gitslotpark, hub88, igamingace

    return (gitslotpark.PROVIDER, igamingace.PROVIDER, hub88.PROVIDER)
