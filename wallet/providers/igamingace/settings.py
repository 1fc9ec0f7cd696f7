"""iGamingAce's accounts, read from the environment (IGAMINGACE_*; docs/configuration.md)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from wallet.config import named_accounts, networks, path_setting, required, setting, url_setting, whole_number

#: The embedded mode's demo token, printed by `wallet serve` and used by the README.
DEMO_TOKEN = "demo-token"
DEFAULT_API_URL = "https://api.igamingace.com"


@dataclass(frozen=True)
class IGamingAce:
    """An iGamingAce account: callbacks are served only when one is configured."""

    api_token: str
    api_url: str
    replay_window: int  # seconds a callback's timestamp may be off; 0 = no check
    player_link_path: str | None = None  # called at sign-in; not published, so configured
    bonus_path: str | None = None  # free-spin grant; not published, so configured
    bonus_status_path: str | None = None
    max_concurrent_calls: int = 50  # their limit per agent, across all our processes
    sources: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()  # allowed callers; () = any
    name: str = ""  # IGAMINGACE_ACCOUNTS' name (callbacks at /igamingace/<name>); '' = the single account
    currency: str | None = None  # the one currency of its players; None = any


def load(env: Mapping[str, str], embedded: bool) -> tuple[IGamingAce, ...]:
    """The accounts of IGAMINGACE_ACCOUNTS, else the single account of IGAMINGACE_API_TOKEN."""
    named = named_accounts(env, "IGAMINGACE_ACCOUNTS", ("IGAMINGACE_API_TOKEN",))
    if named:
        return tuple(_account(env, name, currency) for name, currency in named)
    token = setting(env, "IGAMINGACE_API_TOKEN") or (DEMO_TOKEN if embedded else None)
    return () if token is None else (_account(env, "", None, token),)


def _account(env: Mapping[str, str], name: str, currency: str | None, token: str | None = None) -> IGamingAce:
    suffix = f"_{name.upper()}" if name else ""
    return IGamingAce(
        api_token=token or required(env, f"IGAMINGACE_API_TOKEN{suffix}"),
        api_url=url_setting(env, f"IGAMINGACE_API_URL{suffix}")
        or url_setting(env, "IGAMINGACE_API_URL")
        or DEFAULT_API_URL,
        replay_window=whole_number(env, "IGAMINGACE_REPLAY_WINDOW", 300, minimum=0),
        player_link_path=path_setting(env, "IGAMINGACE_PLAYER_LINK_PATH"),
        bonus_path=path_setting(env, "IGAMINGACE_BONUS_PATH"),
        bonus_status_path=path_setting(env, "IGAMINGACE_BONUS_STATUS_PATH"),
        max_concurrent_calls=whole_number(env, "IGAMINGACE_MAX_CONCURRENT_CALLS", 50, minimum=1),
        sources=networks(env, "IGAMINGACE_ALLOWED_SOURCES"),
        name=name,
        currency=currency,
    )
