"""The `wallet` command: serve the embedded demo, and manage players without curl."""

from __future__ import annotations

import sys
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from wallet import config, providers, staff_commands
from wallet.commands import cli_app, fail, services_of
from wallet.context import Services
from wallet.core.money import format_amount
from wallet.errors import StoreUnavailable
from wallet.player_commands import player
from wallet.quarantine_commands import quarantine
from wallet.sim.command import simulate


@click.group()
def main() -> None:
    """The seamless wallet."""


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """Gunicorn run from Python with explicit settings (no gunicorn.conf.py)."""

    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application, self.options = app, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int, envvar="PORT", help="Also read from PORT.")
def serve(host: str, port: int) -> None:
    """Serve the wallet in one process (embedded store unless REDIS_URL is set)."""
    app = cli_app()
    services = services_of(app)
    _banner(services.settings, host, port)
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "wallet.ops.server.JsonThreadWorker",
        "threads": 8,
        "graceful_timeout": 5,
        "accesslog": "-",
    }
    if services.settings.embedded:
        options.update(_embedded_hooks(services))
    _Gunicorn(app, options).run()


def _embedded_hooks(services: Services) -> dict[str, Any]:
    """Keep the embedded store in SQL: restored at start, drained every second and at exit."""
    import threading

    from wallet.ledger import db, recovery
    from wallet.ledger import snapshot as job

    stop = threading.Event()
    retention = services.settings.retention

    def post_worker_init(worker: Any) -> None:
        db.migrate(services.db)
        settings = services.settings
        players, _ = recovery.restore(
            services.store, services.db, retention, horizon=settings.aged_horizon, zone=settings.limit_zone
        )
        if players:
            worker.log.info("restored %d players from %s", players, services.db.url)
        threading.Thread(target=job.run, args=(services.store, services.db, 1.0, retention, stop), daemon=True).start()

    def worker_exit(server: Any, worker: Any) -> None:
        stop.set()
        job.drain_once(services.store, services.db)

    return {"post_worker_init": post_worker_init, "worker_exit": worker_exit}


def _banner(settings: config.Settings, host: str, port: int) -> None:
    store = "embedded in-process store" if settings.embedded else "Redis"
    click.echo(f"Seamless wallet on http://{host}:{port} with the {store}")
    if settings.embedded:
        click.echo(f"  kept in                 {settings.database_url} (restored at the next start)")
    if settings.embedded:
        click.echo(f"  operator API key        {settings.operator_api_key}")
    if not settings.embedded:
        return
    for provider in providers.registry():  # the embedded mode's demo credentials, made to be shown
        for account in provider.accounts(settings):
            for label, value in provider.banner(account, f"http://{host}:{port}"):
                click.echo(f"  {label:<22}  {value}")


@main.command()
def migrate() -> None:
    """Create or upgrade the SQL schema (the Procfile's release step)."""
    from wallet.ledger import db

    services = services_of(cli_app())
    _sql(lambda: db.migrate(services.db))
    click.echo(f"schema up to date on {services.db.url.render_as_string(hide_password=True)}")


@main.command()
@click.option("--every", default=5.0, show_default=True, help="Seconds between batches.")
@click.option("--once", is_flag=True, help="Drain what is there now, then exit.")
def snapshot(every: float, once: bool) -> None:
    """Drain the Redis ledger streams into SQL (the Procfile's worker); stops cleanly on SIGTERM."""
    import logging
    import signal
    import threading

    from wallet.ledger import db
    from wallet.ledger import snapshot as job

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    services = services_of(cli_app())
    if services.settings.embedded:
        fail("REDIS_URL: not set; `wallet serve` drains its embedded store itself")
    _sql(lambda: db.migrate(services.db))
    stop = threading.Event()
    if once:
        stop.set()
        batch = job.drain_once(services.store, services.db)
        click.echo(f"drained {len(batch.entries)} entries ({batch.money_rows} balance changes)")
        return
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    click.echo(f"snapshot job: every {every} s into {services.db.url.render_as_string(hide_password=True)}")
    job.run(services.store, services.db, every, services.settings.retention, stop, watch=services.redis_watch)
    click.echo("snapshot job: stopped")


@main.command()
@click.option("--force", is_flag=True, help="Restore even though Redis already holds wallet keys.")
def restore(force: bool) -> None:
    """Rebuild Redis from SQL after a Redis loss (players, balances, transaction records)."""
    from wallet.ledger import recovery

    services = services_of(cli_app())
    settings = services.settings
    total = _sql(lambda: recovery.count_rows(services.db))
    with click.progressbar(length=total, label="restoring", file=sys.stderr) as bar:
        try:
            players, records = _sql(
                lambda: recovery.restore(
                    services.store,
                    services.db,
                    settings.retention,
                    force,
                    bar.update,
                    settings.aged_horizon,
                    settings.limit_zone,
                )
            )
        except recovery.NotEmpty as exc:
            fail(f"{exc}; run `wallet check` first, or pass --force")
    click.echo(f"restored {players} players and {records} transaction records")


@main.command()
def check() -> None:
    """Reconcile: Redis balance = SQL snapshot + undrained entries = ledger sum, for every player."""
    from wallet.ledger import recovery

    services = services_of(cli_app())
    players, mismatches = _sql(lambda: recovery.check(services.store, services.db))
    for m in mismatches:
        redis_balance = "missing" if m.redis is None else format_amount(m.redis)
        click.echo(
            f"MISMATCH {m.player}: redis {redis_balance}, sql snapshot {format_amount(m.snapshot)} "
            f"+ undrained {format_amount(m.undrained)}, ledger {format_amount(m.ledger)}"
        )
    if mismatches:
        fail(f"{len(mismatches)} of {players} players do not reconcile")
    click.echo(f"{players} players reconcile")


def _sql(call: Any) -> Any:
    """Run ``call``; an unreachable database or Redis becomes one line and exit status 1."""
    import sqlalchemy as sa

    try:
        return call()
    except sa.exc.OperationalError as exc:
        fail(f"DATABASE_URL: {str(exc.orig).strip().splitlines()[0]}")
    except StoreUnavailable as exc:
        fail(f"REDIS_URL: {exc}")


@main.command()
@click.argument("body")
@click.option("--provider", type=click.Choice(providers.names()), default="igamingace", show_default=True)
@click.option("--account", default="", help="The *_ACCOUNTS account whose key signs (default: the first).")
@click.option("--operation", default="", help="The callback, where the provider signs it (GitSlotPark: Withdraw...).")
def sign(body: str, provider: str, account: str, operation: str) -> None:
    """Print what a provider would send to authenticate BODY (a JSON object) with one of your
    accounts (iGamingAce: its X-Request-Signature; GitSlotPark: the sign of --operation; Hub88:
    its X-Hub88-Signature, with the demo key or HUB88_SIMULATOR_KEY)."""
    chosen_provider = providers.find(provider)
    accounts = chosen_provider.accounts(services_of(cli_app()).settings)
    chosen = next((a for a in accounts if not account or a.name == account.lower()), None)
    if chosen is None:
        fail(f"--account: no {provider} account {account!r}" if account else f"{provider}: no account configured")
        return
    try:
        click.echo(chosen_provider.sign(chosen, operation, body.encode()))
    except ValueError as exc:
        fail(f"BODY: {exc}")


main.add_command(simulate)
main.add_command(player)
main.add_command(quarantine)
main.add_command(staff_commands.user)
main.add_command(staff_commands.key)
