"""What the `wallet` commands share: the app they act on, and one-line failures."""

from __future__ import annotations

import getpass
import sys
from typing import Any

import click

from wallet import create_app
from wallet.context import Services
from wallet.errors import ConfigError


def cli_app() -> Any:
    """The app given by the caller as the click context object (tests), else built from the environment."""
    context = click.get_current_context()
    if context.obj is None:
        try:
            context.obj = create_app()
        except ConfigError as exc:
            fail(str(exc))
    return context.obj


def services_of(app: Any) -> Services:
    return app.extensions["wallet"]  # type: ignore[no-any-return]


def cli_actor() -> Any:
    """Who acts from the command line, for the audit trail: ``cli:<login name>``."""
    from wallet.operator.staff import Actor

    return Actor(f"cli:{getpass.getuser()}", "admin", "cli")


def fail(message: str) -> Any:
    click.echo(message, err=True)
    sys.exit(1)
