"""Staff users and named API keys, their roles, and how each proves who it is.

Passwords are argon2id hashes (argon2-cffi); the optional second factor is TOTP (pyotp). API keys
are 32 random bytes shown once; only their SHA-256 is stored (a key that long needs no slow hash).
``OPERATOR_API_KEY`` stays the bootstrap admin key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from wallet.ledger.db import api_keys, staff_users

ROLES = ("viewer", "cashier", "admin")  # each may do what the one before may, and more
NAME = r"[a-z0-9][a-z0-9._@-]{0,63}"
MIN_PASSWORD = 12
BOOTSTRAP = "operator-key"  # the actor name of OPERATOR_API_KEY
ISSUER = "Seamless wallet"

_hasher = PasswordHasher()
_DUMMY = _hasher.hash("timing-equaliser")  # verified against when the user is unknown


class StaffError(ValueError):
    """A user or key change that cannot be made (the message says why)."""


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff user, a named API key, or the bootstrap key."""

    name: str
    role: str
    kind: str  # user | key | bootstrap

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def _now() -> datetime:
    return datetime.now(UTC)


def _check_name(name: str) -> None:
    if not re.fullmatch(NAME, name):
        raise StaffError("a name is letters, digits and . _ @ - (lower case, up to 64)")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"a password needs at least {MIN_PASSWORD} characters")


def add_user(engine: Engine, name: str, role: str, password: str) -> None:
    _check_name(name)
    _check_role(role)
    _check_password(password)
    with engine.begin() as conn:
        if conn.execute(sa.select(staff_users.c.name).where(staff_users.c.name == name)).first():
            raise StaffError(f"user {name!r} exists")
        row = {"name": name, "role": role, "password_hash": _hasher.hash(password), "disabled": False}
        conn.execute(staff_users.insert().values(**row, created_at=_now()))


def _update_user(engine: Engine, name: str, ends_sessions: bool = True, **values: object) -> None:
    """Change a user; every change ends the user's sessions (their generation moves on)."""
    if ends_sessions:
        values["session_gen"] = staff_users.c.session_gen + 1
    with engine.begin() as conn:
        if conn.execute(staff_users.update().where(staff_users.c.name == name).values(**values)).rowcount == 0:
            raise StaffError(f"no user {name!r}")


def end_sessions(engine: Engine, name: str) -> None:
    """Sign the user out everywhere (sign-out ends every session of that user, not just this one)."""
    _update_user(engine, name)


def set_password(engine: Engine, name: str, password: str) -> None:
    _check_password(password)
    _update_user(engine, name, password_hash=_hasher.hash(password))


def set_role(engine: Engine, name: str, role: str) -> None:
    _check_role(role)
    _update_user(engine, name, role=role)


def set_disabled(engine: Engine, name: str, disabled: bool) -> None:
    _update_user(engine, name, disabled=disabled)


def enable_2fa(engine: Engine, name: str) -> tuple[str, str]:
    """A new TOTP secret for the user (replacing any earlier one): the secret and its otpauth URI,
    to be shown once."""
    secret = pyotp.random_base32()
    _update_user(engine, name, totp_secret=secret)
    return secret, pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)


def disable_2fa(engine: Engine, name: str) -> None:
    _update_user(engine, name, totp_secret=None)


def users(engine: Engine) -> list[dict[str, object]]:
    """Every user without secrets: name, role, disabled, 2fa, created_at."""
    columns = [staff_users.c.name, staff_users.c.role, staff_users.c.disabled, staff_users.c.created_at]
    second = staff_users.c.totp_secret.is_not(None).label("2fa")
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(sa.select(*columns, second).order_by(staff_users.c.name)).mappings()]


def _row(engine: Engine, name: str) -> Any:
    """The user's whole row (secrets included), or None."""
    with engine.connect() as conn:
        return conn.execute(sa.select(staff_users).where(staff_users.c.name == name)).mappings().first()


def live(engine: Engine, name: str) -> tuple[str, int] | None:
    """The role and session generation of an enabled user now, or None (no such user, or disabled)."""
    row = _row(engine, name)
    return None if row is None or row["disabled"] else (str(row["role"]), int(row["session_gen"]))


@dataclass(frozen=True)
class Login:
    """The outcome of a sign-in: the actor, or refused (the same answer for a wrong password, a
    wrong code and a missing one)."""

    actor: Actor | None = None
    setup_2fa: bool = False  # WALLET_REQUIRE_2FA and an admin without a second factor


def sign_in(
    engine: Engine, name: str, password: str, code: str, require_2fa: bool, once: Callable[[int], bool]
) -> Login:
    """Check a user's password, then its TOTP code when it has one (a refused Login otherwise).
    ``once(step)``: True the first time a code of that time step (or a later one) is used."""
    row = _row(engine, name)
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return Login()
    if row is None or row["disabled"]:
        return Login()
    if row["totp_secret"]:
        step = _totp_step(row["totp_secret"], code)
        if step is None or not once(step):
            return Login()
    elif require_2fa and row["role"] == "admin":
        return Login(setup_2fa=True)
    if _hasher.check_needs_rehash(row["password_hash"]):
        _update_user(engine, name, ends_sessions=False, password_hash=_hasher.hash(password))
    return Login(Actor(name, row["role"], "user"))


def _totp_step(secret: str, code: str) -> int | None:
    """The time step (30 s) whose code ``code`` is, within one step of now; None when none is."""
    totp, now = pyotp.TOTP(secret), time.time()
    for offset in (0, -1, 1):
        at = now + offset * totp.interval
        if hmac.compare_digest(totp.at(at).encode(), code.encode("utf-8", "replace")):
            return int(at // totp.interval)
    return None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_key(engine: Engine, name: str, role: str) -> str:
    """A new API key with this role: returned once, stored as its SHA-256."""
    _check_name(name)
    _check_role(role)
    key = "wk_" + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        if conn.execute(sa.select(api_keys.c.name).where(api_keys.c.name == name)).first():
            raise StaffError(f"API key {name!r} exists")
        conn.execute(
            api_keys.insert().values(
                name=name, role=role, key_hash=_digest(key), hint=key[:7], revoked=False, created_at=_now()
            )
        )
    return key


def revoke_key(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        if conn.execute(api_keys.update().where(api_keys.c.name == name).values(revoked=True)).rowcount == 0:
            raise StaffError(f"no API key {name!r}")


def keys(engine: Engine) -> list[dict[str, object]]:
    """Every API key without its secret: name, role, hint (first characters), revoked, created_at."""
    columns = [api_keys.c.name, api_keys.c.role, api_keys.c.hint, api_keys.c.revoked, api_keys.c.created_at]
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(sa.select(*columns).order_by(api_keys.c.name)).mappings()]


def key_actor(engine: Engine, bootstrap: str, given: str) -> Actor | None:
    """The actor of a bearer key: the bootstrap admin, a live named key, or None."""
    if hmac.compare_digest(given.encode(), bootstrap.encode()):
        return Actor(BOOTSTRAP, "admin", "bootstrap")
    if not given.startswith("wk_"):
        return None
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(api_keys.c.name, api_keys.c.role).where(
                api_keys.c.key_hash == _digest(given), api_keys.c.revoked.is_(False)
            )
        ).first()
    return Actor(row.name, row.role, "key") if row else None
