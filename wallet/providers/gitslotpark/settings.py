"""GitSlotPark's accounts, read from the environment (GITSLOTPARK_*; docs/configuration.md)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from wallet.config import named_accounts, networks, required, setting, url_setting
from wallet.core import money
from wallet.errors import ConfigError

#: The embedded mode's demo credentials, printed by `wallet serve` and used by the README.
DEMO_AGENT, DEMO_SECRET = "demo-agent", "demo-secret"


@dataclass(frozen=True)
class GitSlotPark:
    """A GitSlotPark account: callbacks are served only when one is configured."""

    agent_id: str
    secret_key: str
    api_token: str | None  # platform API (launch, catalog, free spins): off while token or url unset
    api_url: str | None
    duplicate_result: int
    dialect: str  # "classic" (result/transactionID) or "agent" (code/platformTransactionID, gameID)
    sources: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()  # allowed callers; () = any
    name: str = ""  # GITSLOTPARK_ACCOUNTS' name; '' = the single account of the plain variables
    currency: str | None = None  # the one currency of its players; None = any with at most 2 decimals


def load(env: Mapping[str, str], embedded: bool) -> tuple[GitSlotPark, ...]:
    """The accounts of GITSLOTPARK_ACCOUNTS, else the single account of the plain variables."""
    named = named_accounts(env, "GITSLOTPARK_ACCOUNTS", ("GITSLOTPARK_AGENT_ID", "GITSLOTPARK_SECRET_KEY"))
    if named:
        accounts = tuple(_account(env, name, currency) for name, currency in named)
        agents = [a.agent_id for a in accounts]
        if len(set(agents)) < len(agents):
            raise ConfigError("GITSLOTPARK_ACCOUNTS: two accounts share an agent id (it selects the account)")
        return accounts
    agent = setting(env, "GITSLOTPARK_AGENT_ID")
    secret = setting(env, "GITSLOTPARK_SECRET_KEY")
    if embedded and agent is None and secret is None:
        agent, secret = DEMO_AGENT, DEMO_SECRET
    if agent is None or secret is None:
        return ()
    return (_account(env, "", None, agent, secret),)


def _account(
    env: Mapping[str, str], name: str, currency: str | None, agent: str | None = None, secret: str | None = None
) -> GitSlotPark:
    suffix = f"_{name.upper()}" if name else ""
    if currency is not None and (money.exponent(currency) or 0) > 2:
        raise ConfigError(f"GITSLOTPARK_ACCOUNTS: {currency} has more than 2 decimals; GitSlotPark's wire has 2")
    duplicate = setting(env, "GITSLOTPARK_DUPLICATE_RESULT") or "0"
    if duplicate not in ("0", "11"):
        raise ConfigError("GITSLOTPARK_DUPLICATE_RESULT: must be 0 or 11")
    dialect = setting(env, "GITSLOTPARK_DIALECT") or "classic"
    if dialect not in ("classic", "agent"):
        raise ConfigError("GITSLOTPARK_DIALECT: must be classic or agent")
    return GitSlotPark(
        agent_id=agent or required(env, f"GITSLOTPARK_AGENT_ID{suffix}"),
        secret_key=secret or required(env, f"GITSLOTPARK_SECRET_KEY{suffix}"),
        api_token=setting(env, f"GITSLOTPARK_API_TOKEN{suffix}"),
        api_url=url_setting(env, f"GITSLOTPARK_API_URL{suffix}"),
        duplicate_result=int(duplicate),
        dialect=dialect,
        sources=networks(env, "GITSLOTPARK_ALLOWED_SOURCES"),
        name=name,
        currency=currency,
    )
