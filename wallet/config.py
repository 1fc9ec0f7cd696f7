"""Settings read once from the environment (12-factor; the names a PaaS sets where they exist)."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wallet.core import money
from wallet.errors import ConfigError

#: Demo credentials of the embedded mode, printed by `wallet serve` and used by the README.
DEMO_OPERATOR_KEY = "demo-operator-key"
#: Full records in Redis: covers every documented provider retry and rollback window (docs/benchmarks.md).
DEFAULT_RETENTION = timedelta(hours=24)
#: How long an id that left Redis is still recognised by the aged-id filter (docs/benchmarks.md: sizing).
DEFAULT_AGED_HORIZON = timedelta(days=30)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    redis_url: str | None
    operator_api_key: str
    key_prefix: str
    session_seconds: int  # lifetime of a game session opened through the operator API
    database_url: str  # SQLAlchemy URL of the durable store
    retention: timedelta  # full transaction records stay in Redis this long (then SQL holds them)
    aged_horizon: timedelta  # ids that left Redis are still recognised (aged-id filter) this long
    trusted_proxies: int = 0  # X-Forwarded-For hops to trust (1 behind a PaaS router)
    log_format: str | None = None  # json | text; None = text on a terminal, else json
    metrics_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()  # /metrics without a key
    platform_timeout: int = 5  # seconds we wait for a provider's platform API
    catalog_refresh: int = 3600  # seconds a cached game catalog is served before a refresh
    currencies: Mapping[str, int] = field(default_factory=dict)  # WALLET_CURRENCIES: code -> decimals
    require_2fa: bool = False  # WALLET_REQUIRE_2FA: admins must sign in to the back office with TOTP
    backoffice_idle: int = 900  # seconds of inactivity after which a back-office session ends
    redis_soft_limit: int = 80  # WALLET_REDIS_SOFT_LIMIT: % of maxmemory where money writes stop
    limit_cooling: int = 86400  # WALLET_LIMIT_COOLING: seconds before a raised or removed limit applies
    limit_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))  # WALLET_LIMIT_TIMEZONE
    age_caps: Mapping[str, list[tuple[int, int, Decimal]]] = field(default_factory=dict)  # WALLET_AGE_STAKE_CAPS:
    # currency -> (youngest, oldest, stake cap) bands
    accounts: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # each provider's accounts, by its
    # name, as its settings module reads them (Provider.settings); () = not served

    @property
    def embedded(self) -> bool:
        """True when no REDIS_URL is set: an in-process store for trying the service out."""
        return self.redis_url is None


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``env`` (default: the process environment); ConfigError names a bad one."""
    env = os.environ if env is None else env
    redis_url = setting(env, "REDIS_URL")
    if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("REDIS_URL: must start with redis://, rediss:// or unix://")
    embedded = redis_url is None
    operator_key = setting(env, "OPERATOR_API_KEY") or (DEMO_OPERATOR_KEY if embedded else None)
    if operator_key is None:
        raise ConfigError("OPERATOR_API_KEY: required when REDIS_URL is set")
    if len(operator_key) < 16 and not embedded:
        raise ConfigError("OPERATOR_API_KEY: must be at least 16 characters")
    prefix = setting(env, "WALLET_KEY_PREFIX") or "wallet"
    if not prefix.replace("-", "").replace("_", "").isalnum():
        raise ConfigError("WALLET_KEY_PREFIX: letters, digits, '-' and '_' only")
    currencies = _currencies(env)
    money.configure(currencies)  # before the accounts: their currencies must be known
    accounts = _declared_accounts(env, embedded)
    return Settings(
        redis_url=redis_url,
        operator_api_key=operator_key,
        key_prefix=prefix,
        session_seconds=whole_number(env, "WALLET_SESSION_SECONDS", 8 * 3600, minimum=1),
        database_url=_database_url(env, embedded),
        retention=_retention(env),
        aged_horizon=_aged_horizon(env, accounts),
        trusted_proxies=whole_number(env, "TRUSTED_PROXIES", 0, minimum=0),
        log_format=_choice(env, "LOG_FORMAT", ("json", "text")),
        metrics_allow=networks(env, "METRICS_ALLOW"),
        platform_timeout=whole_number(env, "PLATFORM_API_TIMEOUT", 5, minimum=1),
        catalog_refresh=whole_number(env, "GAME_CATALOG_REFRESH", 3600, minimum=1),
        currencies=currencies,
        require_2fa=_flag(env, "WALLET_REQUIRE_2FA"),
        redis_soft_limit=_percent(env, "WALLET_REDIS_SOFT_LIMIT", 80),
        limit_cooling=int(_duration(env, "WALLET_LIMIT_COOLING", timedelta(hours=24), timedelta(0)).total_seconds()),
        limit_zone=_zone(env, "WALLET_LIMIT_TIMEZONE"),
        age_caps=_age_caps(env, "WALLET_AGE_STAKE_CAPS"),
        accounts=accounts,
        backoffice_idle=int(
            _duration(
                env, "WALLET_BACKOFFICE_IDLE", timedelta(minutes=15), minimum=timedelta(minutes=1)
            ).total_seconds()
        ),
    )


def provider_accounts(env: Mapping[str, str] | None = None) -> dict[str, tuple[Any, ...]]:
    """Each provider's accounts as the service reads them (the demo ones when none are set): for tools."""
    env = os.environ if env is None else env
    money.configure(_currencies(env))
    return _declared_accounts(env, True)


def _declared_accounts(env: Mapping[str, str], embedded: bool) -> dict[str, tuple[Any, ...]]:
    """Each registered provider's accounts, as its settings module reads them (Provider.settings)."""
    from wallet import providers  # late: a provider's settings module uses this module's helpers

    return {p.name: p.settings(env, embedded) for p in providers.registry()}


def _aged_horizon(env: Mapping[str, str], accounts: Mapping[str, tuple[Any, ...]]) -> timedelta:
    """WALLET_AGED_HORIZON, at least as long as any configured provider must recognise its ids
    (Hub88: 4 months); unset, the longest of those and DEFAULT_AGED_HORIZON."""
    from wallet import providers

    needs = {p.name: p.id_horizon for p in providers.registry() if accounts.get(p.name) and p.id_horizon}
    least = max(needs.values(), default=timedelta(0))
    horizon = _duration(env, "WALLET_AGED_HORIZON", max(DEFAULT_AGED_HORIZON, least), minimum=timedelta(minutes=3))
    if horizon < least:
        name = max(needs, key=lambda n: needs[n])
        raise ConfigError(
            f"WALLET_AGED_HORIZON: {name} needs its transaction ids recognised for {needs[name].days}d; "
            f"set at least {needs[name].days}d, or leave it unset"
        )
    return horizon


def _database_url(env: Mapping[str, str], embedded: bool) -> str:
    """DATABASE_URL; the embedded mode's file under ./var/ when unset. With REDIS_URL set it is
    required: on a PaaS a file database lives on the dyno's own disk and is gone at the next
    restart, after the worker has trimmed Redis. A file database then needs an explicit opt-in."""
    url = setting(env, "DATABASE_URL")
    if url is None and not embedded:
        raise ConfigError(
            "DATABASE_URL: required when REDIS_URL is set (the durable ledger); "
            "a file database only with WALLET_FILE_DATABASE=1 and a sqlite:/// URL on a disk that is kept"
        )
    if url is None:
        return f"sqlite:///{Path.cwd() / 'var' / 'wallet.db'}"
    if not url.startswith(("postgres://", "postgresql", "sqlite:")):
        raise ConfigError("DATABASE_URL: must be a postgres:// , postgresql:// or sqlite:/// URL")
    if url.startswith("sqlite:") and not embedded and not _flag(env, "WALLET_FILE_DATABASE"):
        raise ConfigError(
            "DATABASE_URL: a sqlite file with REDIS_URL set is lost with the machine's disk; "
            "use PostgreSQL, or set WALLET_FILE_DATABASE=1 if that disk is kept"
        )
    return url


def named_accounts(env: Mapping[str, str], name: str, single: tuple[str, ...]) -> list[tuple[str, str]]:
    """``name:CURRENCY,...`` pairs: names of letters, digits and '_' (each once), one account per
    known currency; [] when unset. The single-account variables may not be set as well."""
    text = setting(env, name)
    if text is None:
        return []
    if clash := [var for var in single if setting(env, var) is not None]:
        raise ConfigError(f"{name}: set either it or {clash[0]}, not both")
    pairs = [tuple(part.strip().split(":")) for part in text.split(",") if part.strip()]
    for pair in pairs:
        if len(pair) != 2 or not re.fullmatch(r"[A-Za-z0-9_]{1,32}", pair[0]):
            raise ConfigError(f"{name}: name:CURRENCY pairs separated by commas, like eur:EUR,usd:USD")
        if money.exponent(pair[1]) is None:
            raise ConfigError(f"{name}: unknown currency {pair[1]!r} (ISO 4217, or add it to WALLET_CURRENCIES)")
    names, currencies = [p[0].lower() for p in pairs], [p[1] for p in pairs]
    if not pairs or len(set(names)) < len(names) or len(set(currencies)) < len(currencies):
        raise ConfigError(f"{name}: each name and each currency once (an account serves one currency)")
    return [(n, c) for n, c in zip(names, currencies, strict=True)]


def _currencies(env: Mapping[str, str]) -> dict[str, int]:
    """WALLET_CURRENCIES: ``CODE:decimals,...`` (BTC:8,USDT:6)."""
    found: dict[str, int] = {}
    for part in (setting(env, "WALLET_CURRENCIES") or "").split(","):
        code, _, digits = part.strip().partition(":")
        if not part.strip():
            continue
        if not money.is_currency(code) or not digits.isdigit() or int(digits) > money.MAX_EXPONENT:
            message = (
                f"CODE:decimals pairs like BTC:8,USDT:6 (codes of 3-10 capitals or digits, 0-{money.MAX_EXPONENT})"
            )
            raise ConfigError(f"WALLET_CURRENCIES: {message}")
        found[code] = int(digits)
    return found


def required(env: Mapping[str, str], name: str) -> str:
    value = setting(env, name)
    if value is None:
        raise ConfigError(f"{name}: required by its account")
    return value


def _retention(env: Mapping[str, str]) -> timedelta:
    """WALLET_RETENTION, or the older WALLET_RETENTION_DAYS (a whole number of days) as an alias."""
    if setting(env, "WALLET_RETENTION") is None and setting(env, "WALLET_RETENTION_DAYS") is not None:
        return timedelta(days=whole_number(env, "WALLET_RETENTION_DAYS", 1, minimum=0))
    return _duration(env, "WALLET_RETENTION", DEFAULT_RETENTION, minimum=timedelta(0))


def _duration(env: Mapping[str, str], name: str, default: timedelta, minimum: timedelta) -> timedelta:
    """A duration such as 30s, 15m, 48h or 7d (a bare number is seconds)."""
    text = setting(env, name)
    if text is None:
        return default
    found = re.fullmatch(r"(\d+)([smhd]?)", text)
    value = None if found is None else timedelta(seconds=int(found[1]) * _UNITS[found[2] or "s"])
    if value is None or value < minimum:
        raise ConfigError(f"{name}: a duration such as 30s, 15m, 48h or 7d, at least {minimum}")
    return value


def _age_caps(env: Mapping[str, str], name: str) -> dict[str, list[tuple[int, int, Decimal]]]:
    """``CURRENCY:youngest-oldest:cap,...``, e.g. GBP:18-24:2.00,GBP:25-120:5.00 (the UK's slot caps)."""
    found: dict[str, list[tuple[int, int, Decimal]]] = {}
    for part in filter(None, (p.strip() for p in (setting(env, name) or "").split(","))):
        matched = re.fullmatch(r"([A-Z0-9]{3,10}):(\d{1,3})-(\d{1,3}):(\d{1,12}(?:\.\d{1,8})?)", part)
        if matched is None or money.exponent(matched[1]) is None or int(matched[2]) > int(matched[3]):
            raise ConfigError(f"{name}: CURRENCY:youngest-oldest:cap pairs like GBP:18-24:2.00,GBP:25-120:5.00")
        found.setdefault(matched[1], []).append((int(matched[2]), int(matched[3]), Decimal(matched[4])))
    return found


def _zone(env: Mapping[str, str], name: str) -> ZoneInfo:
    """An IANA time zone such as Europe/Stockholm or America/Toronto (default UTC)."""
    text = setting(env, name) or "UTC"
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{name}: an IANA time zone such as America/Toronto or UTC") from exc


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = (setting(env, name) or "0").lower()
    if value not in ("0", "1", "true", "false", "yes", "no"):
        raise ConfigError(f"{name}: must be 1 or 0")
    return value in ("1", "true", "yes")


def _choice(env: Mapping[str, str], name: str, options: tuple[str, ...]) -> str | None:
    value = setting(env, name)
    if value is not None and value not in options:
        raise ConfigError(f"{name}: one of {', '.join(options)}")
    return value


def networks(env: Mapping[str, str], name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated addresses or CIDR ranges."""
    try:
        return tuple(
            ipaddress.ip_network(part.strip()) for part in (setting(env, name) or "").split(",") if part.strip()
        )
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from exc


def url_setting(env: Mapping[str, str], name: str) -> str | None:
    url = setting(env, name)
    if url is not None and not url.startswith(("https://", "http://")):
        raise ConfigError(f"{name}: must be an http(s):// URL")
    return None if url is None else url.rstrip("/")


def path_setting(env: Mapping[str, str], name: str) -> str | None:
    path = setting(env, name)
    if path is not None and not path.startswith("/"):
        raise ConfigError(f"{name}: must be a path starting with /, like /v1/player/link")
    return path


def whole_number(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    """A whole number setting (seconds or days, as its name says) of at least ``minimum``."""
    text = setting(env, name)
    if text is None:
        return default
    if not text.isdigit() or int(text) < minimum:
        raise ConfigError(f"{name}: must be a whole number >= {minimum}")
    return int(text)


def _percent(env: Mapping[str, str], name: str, default: int) -> int:
    """A percentage of 50 to 95: the room above it is what the snapshot worker needs to recover."""
    value = whole_number(env, name, default, minimum=50)
    if value > 95:
        raise ConfigError(f"{name}: must be at most 95 (the room above it lets the worker drain and prune)")
    return value


def setting(env: Mapping[str, str], name: str) -> str | None:
    """The variable ``name`` stripped; None when unset or blank."""
    value = env.get(name, "").strip()
    return value or None
