"""`wallet simulate`: the conformance suite (--suite) or simulated play (--play) against a callback URL."""

from __future__ import annotations

import sys
import uuid
from typing import Any

import click
import requests

from wallet import config
from wallet.core import money
from wallet.errors import ConfigError
from wallet.providers import find, registry
from wallet.providers.gitslotpark import settings as gitslotpark
from wallet.providers.igamingace import settings as igamingace
from wallet.sim import play as playing
from wallet.sim import suite
from wallet.sim.operator import OperatorApi
from wallet.sim.providers import GitSlotPark, GitSlotParkAgent, IGamingAce, Provider

#: The two first providers' sides live in wallet/sim/providers.py; later ones declare theirs
#: (Provider.simulator in the registry).
FLAVOURS = ("gitslotpark", "gitslotpark-agent", "igamingace", *(p.name for p in registry() if p.simulator))


def _provider(
    flavour: str, url: str, keys: tuple[str, str, str], account: str | None, currency: str | None
) -> Provider:
    """The provider side: the named account's credentials, currency and URL, else the given keys."""
    if flavour not in ("gitslotpark", "gitslotpark-agent", "igamingace"):
        return _declared(flavour, url, account, currency)
    family = "igamingace" if flavour == "igamingace" else "gitslotpark"
    chosen = _account(family, account) if account else None
    held = chosen.currency if chosen else None
    if held and currency and currency != held:
        raise click.ClickException(f"--currency {currency}: account {account} holds {held}")
    currency = currency or held or "EUR"
    exp = money.exponent(currency)
    if exp is None:
        raise click.ClickException(f"--currency {currency}: unknown (ISO 4217, or set WALLET_CURRENCIES)")
    agent, secret, token = keys
    provider: Provider
    if family == "igamingace" and chosen is not None:
        provider = IGamingAce(url, chosen.api_token, currency, exp, account=chosen.name)
    elif flavour == "igamingace":
        provider = IGamingAce(url, token, currency, exp)
    else:
        if chosen is not None:
            agent, secret = chosen.agent_id, chosen.secret_key
        provider = (GitSlotParkAgent if flavour == "gitslotpark-agent" else GitSlotPark)(
            url, agent, secret, currency, exp
        )
    provider.foreign = _foreign(family, held)
    return provider


def _declared(name: str, url: str, account: str | None, currency: str | None) -> Provider:
    """The side a provider declares (Provider.simulator) for its named account, else its single one."""
    try:
        accounts = config.provider_accounts()[name]
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    chosen = _account(name, account) if account else (accounts[0] if accounts else None)
    if chosen is None:
        raise click.ClickException(f"{name}: no account configured")
    if chosen.currency and currency and currency != chosen.currency:
        raise click.ClickException(f"--currency {currency}: account {account} holds {chosen.currency}")
    currency = currency or chosen.currency or "EUR"
    exp = money.exponent(currency)
    if exp is None:
        raise click.ClickException(f"--currency {currency}: unknown (ISO 4217, or set WALLET_CURRENCIES)")
    simulator = find(name).simulator
    assert simulator is not None
    try:
        provider: Provider = simulator(url, chosen, currency, exp)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    provider.foreign = _foreign(name, chosen.currency)
    return provider


def _account(family: str, name: str) -> Any:
    try:
        accounts = config.provider_accounts()[family]
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    found = next((a for a in accounts if a.name and a.name == name.lower()), None)
    if found is None:
        raise click.ClickException(f"--account {name}: not in {family.upper()}_ACCOUNTS")
    return found


def _foreign(family: str, held: str | None) -> str | None:
    """A currency the account must refuse: another than its own; for GitSlotPark's single
    account, one with three decimals (its wire has two); None when it takes every currency."""
    if held is not None:
        return "USD" if held != "USD" else "EUR"
    return "BHD" if family == "gitslotpark" else None


@click.command()
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="The wallet's base URL.")
@click.option("--provider", "flavour", type=click.Choice(FLAVOURS), default="gitslotpark", show_default=True)
@click.option(
    "--player",
    default=None,
    help="Test player id (a prefix in --play)  [default: sim-player, sim-player-<currency> for another than EUR]",
)
@click.option(
    "--account",
    default=None,
    help="A named account of GITSLOTPARK_ACCOUNTS / IGAMINGACE_ACCOUNTS / HUB88_ACCOUNTS: its keys, currency, URL.",
)
@click.option("--currency", default=None, help="The test players' currency  [default: the account's, else EUR]")
@click.option("--suite", "mode", flag_value="suite", default=True, help="Run the conformance suite (default).")
@click.option("--play", "mode", flag_value="play", help="Simulate players playing rounds.")
@click.option("--agent-id", envvar="GITSLOTPARK_AGENT_ID", default=gitslotpark.DEMO_AGENT)
@click.option("--secret", envvar="GITSLOTPARK_SECRET_KEY", default=gitslotpark.DEMO_SECRET)
@click.option("--token", envvar="IGAMINGACE_API_TOKEN", default=igamingace.DEMO_TOKEN)
@click.option("--api-key", envvar="OPERATOR_API_KEY", default=None, help="Operator key: fund and block test players.")
@click.option("--players", default=20, show_default=True, help="--play: how many players.")
@click.option("--rate", default=50.0, show_default=True, help="--play: rounds per second.")
@click.option("--seconds", default=30.0, show_default=True, help="--play: how long.")
@click.option("--threads", default=8, show_default=True, help="--play: concurrent callers.")
@click.option("--retry-rate", default=0.05, show_default=True)
@click.option("--duplicate-rate", default=0.05, show_default=True)
@click.option("--rollback-rate", default=0.05, show_default=True)
def simulate(**options: Any) -> None:
    """Play a provider against a wallet's callback URL with correct signatures."""
    try:
        _simulate(**options)
    except (requests.RequestException, RuntimeError) as exc:
        raise click.ClickException(f"{options['url']}: {exc}") from exc


def _simulate(
    url: str,
    flavour: str,
    player: str | None,
    account: str | None,
    currency: str | None,
    mode: str,
    agent_id: str,
    secret: str,
    token: str,
    api_key: str | None,
    players: int,
    rate: float,
    seconds: float,
    threads: int,
    retry_rate: float,
    duplicate_rate: float,
    rollback_rate: float,
) -> None:
    provider = _provider(flavour, url, (agent_id, secret, token), account, currency)
    if provider.needs_tokens and not api_key:
        raise click.ClickException(
            f"{flavour}: its calls carry the session token of the operator API's sign-in; pass --api-key"
        )
    requests.get(f"{url.rstrip('/')}/healthz", timeout=5)  # unreachable: one clear line, not 21 failures
    player = player or ("sim-player" if provider.currency == "EUR" else f"sim-player-{provider.currency.lower()}")
    ops = OperatorApi(url, api_key) if api_key else None
    if mode == "suite":
        results = suite.run_suite(suite.prepare(provider, player, ops))
        where = f"account {account} " if account else ""
        click.echo(f"conformance suite: {flavour} {where}at {url}, {provider.currency} players")
        click.echo(suite.table(results))
        sys.exit(1 if any(status == "FAIL" for _, status, _ in results) else 0)
    rates = playing.Rates(retry_rate, duplicate_rate, rollback_rate)
    _play(provider, player, ops, players, rate, seconds, threads, rates)


def _play(
    provider: Provider,
    prefix: str,
    ops: OperatorApi | None,
    count: int,
    rate: float,
    seconds: float,
    threads: int,
    rates: playing.Rates,
) -> None:
    names = [f"{prefix}-{i}" for i in range(count)] if ops else [prefix]
    for name in names if ops else []:
        ops.ensure_player(name, provider.currency)  # type: ignore[union-attr]
        ops.deposit(name, provider.shown(100_000))  # type: ignore[union-attr]
        provider.tokens[name] = ops.sign_in(name)  # type: ignore[union-attr]
    opening = {name: _balance(provider, name) for name in names}
    with click.progressbar(length=int(seconds * 10), label=f"playing {len(names)} players", file=sys.stderr) as bar:
        done = [0]

        def tick(elapsed: float) -> None:
            bar.update(int(elapsed * 10) - done[0])
            done[0] = int(elapsed * 10)

        tally = playing.play(provider, names, rate, seconds, threads, rates, uuid.uuid4().hex[:8], tick)
    _report(provider, names, opening, tally, seconds)


def _balance(provider: Provider, player: str) -> int:
    answer = provider.balance(player)
    if answer.code != "OK" or answer.balance is None:
        raise click.ClickException(f"balance of {player}: {answer.code} (create, fund and sign in the player first)")
    return answer.balance


def _report(
    provider: Provider, names: list[str], opening: dict[str, int], tally: playing.Tally, seconds: float
) -> None:
    wrong = []
    for name in names:
        expected, actual = opening[name] + tally.applied[name], _balance(provider, name)
        if actual != expected:
            wrong.append(f"  {name}: expected {provider.shown(expected)}, wallet says {provider.shown(actual)}")
    lat = tally.latencies
    click.echo(
        f"calls: {len(lat)} in {seconds:.0f} s = {len(lat) / seconds:.0f}/s; latency ms p50 "
        f"{playing.percentile(lat, 0.5) * 1000:.1f}, p95 {playing.percentile(lat, 0.95) * 1000:.1f}, "
        f"p99 {playing.percentile(lat, 0.99) * 1000:.1f}"
    )
    if tally.errors:
        click.echo("unexpected answers: " + ", ".join(f"{code} x{n}" for code, n in sorted(tally.errors.items())))
    if wrong:
        click.echo("money NOT conserved:\n" + "\n".join(wrong))
    else:
        click.echo(f"money conserved for all {len(names)} players")
    sys.exit(1 if wrong or tally.errors else 0)
