"""`wallet user ...` and `wallet key ...`: staff accounts and named API keys, from the server's shell.

Every change is recorded in the audit trail as done by ``cli:<login name>``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
import sqlalchemy as sa

from wallet.commands import cli_actor, cli_app, fail, services_of
from wallet.operator import audit, staff

T = TypeVar("T")


def _change(action: str, subject: str, apply: Callable[[Any], T]) -> T:
    """Apply a change to the database and audit it; a refused change is one line and exit 1."""
    app = cli_app()
    try:
        with app.app_context():
            return audit.change(action, subject, lambda: apply(services_of(app).db), actor=cli_actor())
    except staff.StaffError as exc:
        return fail(str(exc))  # type: ignore[no-any-return]
    except sa.exc.SQLAlchemyError as exc:
        return fail(f"database: {exc.__class__.__name__} (is DATABASE_URL right, and `wallet migrate` run?)")  # type: ignore[no-any-return]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _read(show: Callable[[Any], list[dict[str, object]]]) -> list[dict[str, object]]:
    app = cli_app()
    try:
        return show(services_of(app).db)
    except sa.exc.SQLAlchemyError as exc:
        return fail(f"database: {exc.__class__.__name__} (is `wallet migrate` run?)")  # type: ignore[no-any-return]


ROLE = click.Choice(staff.ROLES)
STDIN = click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")


@click.group()
def user() -> None:
    """Back-office staff: viewer (read), cashier (+ money movements), admin (+ blocks, users, keys)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=ROLE, required=True)
@STDIN
def user_add(name: str, role: str, password_stdin: bool) -> None:
    """Add a user; the password is asked for without echo (at least 12 characters)."""
    password = _password(password_stdin)
    _change("user_add", f"{name} as {role}", lambda db: staff.add_user(db, name.lower(), role, password))
    click.echo(f"user {name.lower()} added as {role}")


@user.command("password")
@click.argument("name")
@STDIN
def user_password(name: str, password_stdin: bool) -> None:
    """Set a user's password."""
    password = _password(password_stdin)
    _change("user_password", name, lambda db: staff.set_password(db, name, password))
    click.echo(f"password of {name} set")


@user.command("role")
@click.argument("name")
@click.argument("role", type=ROLE)
def user_role(name: str, role: str) -> None:
    """Give a user another role."""
    _change("user_role", f"{name} to {role}", lambda db: staff.set_role(db, name, role))
    click.echo(f"{name} is now {role}")


@user.command("disable")
@click.argument("name")
def user_disable(name: str) -> None:
    """Stop a user from signing in (their open session ends at its next request)."""
    _change("user_disable", name, lambda db: staff.set_disabled(db, name, True))
    click.echo(f"{name} disabled")


@user.command("enable")
@click.argument("name")
def user_enable(name: str) -> None:
    _change("user_enable", name, lambda db: staff.set_disabled(db, name, False))
    click.echo(f"{name} enabled")


@user.command("2fa")
@click.argument("name")
@click.option("--off", is_flag=True, help="Remove the user's second factor instead.")
def user_2fa(name: str, off: bool) -> None:
    """Give a user a new TOTP second factor: the secret and its otpauth:// URI are shown once."""
    if off:
        _change("user_2fa_off", name, lambda db: staff.disable_2fa(db, name))
        click.echo(f"second factor of {name} removed")
        return
    secret, uri = _change("user_2fa_on", name, lambda db: staff.enable_2fa(db, name))
    click.echo(f"secret (shown once; add it to an authenticator app): {secret}\n{uri}")


@user.command("list")
def user_list() -> None:
    for row in _read(staff.users):
        flags = " ".join(f for f, on in (("2fa", row["2fa"]), ("disabled", row["disabled"])) if on)
        click.echo(f"{row['name']:<24} {row['role']:<8} {flags}".rstrip())


@click.group()
def key() -> None:
    """Named API keys for systems calling the operator API (each with a role)."""


@key.command("add")
@click.argument("name")
@click.option("--role", type=ROLE, required=True)
def key_add(name: str, role: str) -> None:
    """Create a key: it is printed once (only its hash is kept)."""
    secret = _change("key_add", f"{name} as {role}", lambda db: staff.add_key(db, name.lower(), role))
    click.echo(secret)


@key.command("revoke")
@click.argument("name")
def key_revoke(name: str) -> None:
    _change("key_revoke", name, lambda db: staff.revoke_key(db, name))
    click.echo(f"key {name} revoked")


@key.command("list")
def key_list() -> None:
    for row in _read(staff.keys):
        click.echo(f"{row['name']:<24} {row['role']:<8} {row['hint']}…  {'revoked' if row['revoked'] else ''}".rstrip())
