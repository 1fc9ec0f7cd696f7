"""`wallet player ...`: manage players without curl, against the Redis in REDIS_URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import sqlalchemy as sa

from wallet.commands import cli_actor, cli_app, fail, services_of
from wallet.core.money import shown
from wallet.core.wallet import Outcome, Result
from wallet.errors import StoreUnavailable


@click.group()
def player() -> None:
    """Manage players (needs REDIS_URL: the embedded store lives inside `wallet serve`)."""


@player.command("create")
@click.argument("player_id")
@click.argument("currency")
def player_create(player_id: str, currency: str) -> None:
    """Create PLAYER_ID with CURRENCY (e.g. EUR) and a zero balance."""
    _show(player_id, _wallet().create_player(player_id, currency.upper()), "player_create")


@player.command("show")
@click.argument("player_id")
def player_show(player_id: str) -> None:
    """Print a player's balance, currency and status."""
    _show(player_id, _wallet().player(player_id))


@player.command("block")
@click.argument("player_id")
def player_block(player_id: str) -> None:
    """Refuse the player's bets (wins, rollbacks and balance reads still work)."""
    _show(player_id, _wallet().set_status(player_id, "blocked"), "block")


@player.command("unblock")
@click.argument("player_id")
def player_unblock(player_id: str) -> None:
    """Accept the player's bets again."""
    _show(player_id, _wallet().set_status(player_id, "active"), "unblock")


@player.command("deposit")
@click.argument("player_id")
@click.argument("amount")
@click.option("--key", required=True, help="Idempotency key: the same key never pays twice.")
def player_deposit(player_id: str, amount: str, key: str) -> None:
    """Credit AMOUNT (e.g. 100.00, in the player's currency) to the player's balance."""
    _cashier(player_id, "deposit", amount, key)


@player.command("withdraw")
@click.argument("player_id")
@click.argument("amount")
@click.option("--key", required=True, help="Idempotency key: the same key never pays out twice.")
def player_withdraw(player_id: str, amount: str, key: str) -> None:
    """Debit AMOUNT from the player's balance (refused when it is short)."""
    _cashier(player_id, "withdrawal", amount, key)


@player.command("adjust", context_settings={"ignore_unknown_options": True})  # -2.50 is an amount
@click.argument("player_id")
@click.argument("amount")
@click.option("--key", required=True, help="Idempotency key: the same key never corrects twice.")
@click.option("--reason", required=True, help="Why (3-500 printable characters): it goes to the audit trail.")
def player_adjust(player_id: str, amount: str, key: str, reason: str) -> None:
    """Correct the balance by AMOUNT (signed: -2.50 takes, 2.50 gives), with a reason."""
    _cashier(player_id, "adjustment", amount, key, reason)


@player.command("limits")
@click.argument("player_id")
@click.option(
    "--set",
    "changes",
    multiple=True,
    metavar="LIMIT=AMOUNT",
    help="deposit:day, deposit:week, deposit:month, loss:day, loss:week, loss:month or stake; "
    "AMOUNT in the player's currency, or 'none' to remove (raises and removals wait WALLET_LIMIT_COOLING).",
)
def player_limits(player_id: str, changes: tuple[str, ...]) -> None:
    """Show the player's limits (used, left, pending), or change them with --set."""
    from wallet.operator import protection

    body: dict[str, Any] = {}
    for change in changes:
        name, _, value = change.partition("=")
        kind, _, period = name.partition(":")
        amount = None if value.lower() == "none" else value
        if kind == "stake" and not period:
            body["stake"] = amount
        else:
            body.setdefault(kind, {})[period] = amount
    _protect(
        lambda: (
            protection.change_limits(player_id, protection.load(protection.limits_schema, body), cli_actor())
            if changes
            else protection.view(player_id)
        )
    )


@player.command("exclude")
@click.argument("player_id")
@click.argument("kind", type=click.Choice(["cool-off", "self-exclusion"]))
@click.option("--until", required=True, help="When it ends: an ISO 8601 time, or 'never' (self-exclusion only).")
def player_exclude(player_id: str, kind: str, until: str) -> None:
    """Start a cool-off (24 hours to 6 weeks) or a self-exclusion (6 months or more, or never)."""
    from wallet.operator import protection

    body = {"kind": kind, "until": None if until == "never" else until}
    _protect(
        lambda: protection.start_exclusion(player_id, protection.load(protection.exclusion_schema, body), cli_actor())
    )


def _protect(call: Any) -> None:
    """Run a player-protection call as the operator API would (``cli:<login>``), print its JSON."""
    with _as_api():
        click.echo(json.dumps(call(), indent=1))


@contextmanager
def _as_api(prefix: str = "", moved: str = "") -> Iterator[None]:
    """Run operator API code from the shell: in the app's context, each failure one line."""
    from wallet.operator import api

    app = cli_app()
    if services_of(app).settings.embedded:
        fail("REDIS_URL: not set; player commands need the Redis the service uses")
    with app.app_context():
        try:
            yield
        except api.ApiError as exc:
            fail(f"{prefix}{exc.code}: {exc.message}")
        except StoreUnavailable as exc:
            fail(f"REDIS_URL: {exc}")
        except sa.exc.SQLAlchemyError as exc:
            fail(f"DATABASE_URL: {exc.__class__.__name__}{moved}")


def _cashier(player_id: str, kind: str, text: str, key: str, reason: str | None = None) -> None:
    """The operator API's cashier path (units, idempotency, audit row), run as ``cli:<login>``."""
    from wallet.operator import api

    with _as_api(f"{player_id}: ", "; this call moved nothing"):
        amount = api.amount_of(text, signed=kind == "adjustment", reason=reason)
        body, replayed = api.cashier(player_id, kind, amount, key, reason, actor=cli_actor())
    outcome = "DUPLICATE" if replayed else "OK"
    fields = {"player": player_id, "outcome": outcome, "balance": body["balance"], "currency": body["currency"]}
    click.echo("  ".join(f"{k}={v}" for k, v in {**fields, "reference": body["transaction_id"]}.items()))


def _show(player_id: str, result: Result, action: str | None = None, amount: str | None = None) -> None:
    if action:
        _audit(action, player_id, result, amount)
    if result.outcome not in (Outcome.OK, Outcome.DUPLICATE):
        fail(f"{player_id}: {result.outcome.value}")
    fields = {"player": player_id, "outcome": result.outcome.value}
    if result.balance is not None:
        fields["balance"] = shown(result.balance, result.unit, str(result.currency))
    for name in ("currency", "status", "reference"):
        if getattr(result, name) is not None:
            fields[name] = getattr(result, name)
    click.echo("  ".join(f"{k}={v}" for k, v in fields.items()))


def _audit(action: str, player_id: str, result: Result, amount: str | None) -> None:
    """The audit row of a change made here (by ``cli:<login name>``); a database that cannot take
    it is one warning line (the change itself is in Redis and its ledger)."""
    from wallet.operator import audit

    outcome = {Outcome.OK: "ok", Outcome.DUPLICATE: "replayed"}.get(result.outcome, result.outcome.value.lower())
    app = cli_app()
    try:
        with app.app_context():
            audit.record(action, outcome, actor=cli_actor(), player=player_id, amount=amount, currency=result.currency)
    except sa.exc.SQLAlchemyError as exc:
        click.echo(f"warning: audit row not written ({exc.__class__.__name__}; run `wallet migrate`?)", err=True)


def _wallet() -> Any:
    services = services_of(cli_app())
    if services.settings.embedded:
        fail("REDIS_URL: not set; player commands need the Redis the service uses")
    return _Guarded(services.wallet)


class _Guarded:
    """Wallet calls that turn an unreachable Redis into one line and exit status 1."""

    def __init__(self, wallet: Any) -> None:
        self._wallet = wallet

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._wallet, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except StoreUnavailable as exc:
                fail(f"REDIS_URL: {exc}")

        return call
