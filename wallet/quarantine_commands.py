"""`wallet quarantine list|retry`: ledger entries SQL refused, set aside by the snapshot job."""

from __future__ import annotations

import json

import click

from wallet.commands import cli_app, fail, services_of


@click.group()
def quarantine() -> None:
    """Ledger entries SQL refused (set aside so that every other entry keeps flowing)."""


@quarantine.command("list")
def quarantine_list() -> None:
    """Print every entry set aside: id, shard, stream entry, time, error and fields."""
    from wallet.ledger import quarantine as aside

    engine = services_of(cli_app()).db
    with engine.connect() as conn:
        found = aside.rows(conn)
    for row in found:
        click.echo(f"{row['id']}  shard {row['shard']}  entry {row['entry_id']}  at {row['at']}")
        click.echo(f"    error:  {row['error']}")
        click.echo(f"    fields: {json.dumps(row['fields'], ensure_ascii=True, sort_keys=True)}")
    click.echo(f"{len(found)} entries set aside")


@quarantine.command("retry")
@click.argument("ids", nargs=-1, type=int)
def quarantine_retry(ids: tuple[int, ...]) -> None:
    """Write the entries set aside (all, or IDS) to the ledger; those SQL takes leave the quarantine."""
    from wallet.ledger import quarantine as aside

    tried = aside.retry(services_of(cli_app()).db, list(ids) or None)
    for entry, error in tried:
        click.echo(f"{entry}: {'written to the ledger' if error is None else 'still refused: ' + error}")
    refused = sum(1 for _, error in tried if error is not None)
    if refused:
        fail(f"{refused} of {len(tried)} entries still refused")
    click.echo(f"{len(tried)} entries written")
