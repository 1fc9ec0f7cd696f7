"""Staff users, named API keys and roles: every back-office and operator-API route as each role
(and anonymously), sign-in with a second factor, and the command line that manages them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
import redis
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from tests.conftest import OPERATOR_KEY, csrf_of, make_env, sign_in
from wallet import create_app
from wallet.cli import main
from wallet.ledger import db
from wallet.operator import staff

PASSWORD = "correct horse battery"
ROLES = ("viewer", "cashier", "admin")

#: Who may use each route: the least role (None: anyone). Written out here, not read from the code.
API = {
    ("GET", "/api/v1/players/p1"): "viewer",
    ("GET", "/api/v1/players/p1/transactions"): "viewer",
    ("GET", "/api/v1/players/p1/free-spins"): "viewer",
    ("GET", "/api/v1/games?provider=gitslotpark"): "viewer",
    ("GET", "/api/v1/reports/ggr"): "viewer",
    ("GET", "/api/v1/audit"): "viewer",
    ("POST", "/api/v1/players"): "cashier",
    ("POST", "/api/v1/players/p1/sessions"): "cashier",
    ("DELETE", "/api/v1/players/p1/sessions"): "cashier",
    ("POST", "/api/v1/players/p1/deposits"): "cashier",
    ("POST", "/api/v1/players/p1/withdrawals"): "cashier",
    ("POST", "/api/v1/players/p1/adjustments"): "cashier",
    ("POST", "/api/v1/players/p1/launch"): "cashier",
    ("POST", "/api/v1/players/p1/free-spins"): "cashier",
    ("GET", "/api/v1/players/p1/limits"): "viewer",
    ("PATCH", "/api/v1/players/p1/limits"): "cashier",
    ("POST", "/api/v1/players/p1/exclusions"): "cashier",
    ("PATCH", "/api/v1/players/p1"): "admin",
}
OFFICE = {
    ("GET", "/backoffice/login"): None,
    ("POST", "/backoffice/login"): None,  # posted without a name or password: 401, the form again
    ("GET", "/backoffice/static/backoffice.css"): None,
    ("GET", "/backoffice/"): "viewer",
    ("GET", "/backoffice/players/p1"): "viewer",
    ("GET", "/backoffice/reports"): "viewer",
    ("GET", "/backoffice/health"): "viewer",
    ("GET", "/backoffice/audit"): "viewer",
    ("POST", "/backoffice/logout"): "viewer",
    ("POST", "/backoffice/players/p1/cashier"): "cashier",
    ("POST", "/backoffice/players/p1/limits"): "cashier",
    ("POST", "/backoffice/players/p1/exclusions"): "cashier",
    ("POST", "/backoffice/players/p1/status"): "admin",
    ("POST", "/backoffice/health/reconcile"): "admin",
    ("GET", "/backoffice/staff"): "admin",
    ("POST", "/backoffice/staff/users"): "admin",
    ("POST", "/backoffice/staff/users/someone"): "admin",
    ("POST", "/backoffice/staff/keys"): "admin",
    ("POST", "/backoffice/staff/keys/somekey/revoke"): "admin",
}


@pytest.fixture
def sql(engine: Engine) -> Engine:
    """The app's SQL store (the app fixture starts it without users, keys or audit rows)."""
    return engine


@pytest.fixture
def keys(sql: Engine) -> dict[str, str]:
    """A named API key and a back-office user of each role."""
    for role in ROLES:
        staff.add_user(sql, role, role, PASSWORD)
    return {role: staff.add_key(sql, f"{role}-system", role) for role in ROLES}


def _pattern(rule: str) -> str:
    return rule.replace("<player>", "p1").replace("<name>", "x").replace("<path:filename>", "f")


def test_the_tables_cover_every_route(app: Flask) -> None:
    """Every operator-API and back-office route is in the tables below (a new one must be added)."""
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/api/v1", "/backoffice"))
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    covered = {(m, p.split("?")[0].replace("p1", "<player>")) for m, p in API} | {
        (m, p.replace("p1", "<player>").replace("someone", "<name>").replace("somekey", "<name>")) for m, p in OFFICE
    }
    covered = {(m, "/backoffice/static/<path:filename>" if "static" in p else p) for m, p in covered}
    assert routes == covered


def _api_answer(client: FlaskClient, method: str, path: str, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.open(path, method=method, headers=headers, json={}).status_code


@pytest.mark.parametrize("role", [None, *ROLES])
def test_api_routes_by_role(client: FlaskClient, keys: dict[str, str], role: str | None) -> None:
    """Each API route as each role: below its role 403 (anonymous: 401), at or above it served."""
    for (method, path), needed in API.items():
        status = _api_answer(client, method, path, keys[role] if role else None)
        if role is None:
            assert status == 401, (method, path)
        elif ROLES.index(role) < ROLES.index(str(needed)):
            assert status == 403, (role, method, path, status)
        else:
            assert status not in (401, 403), (role, method, path, status)


def test_bootstrap_key_is_admin(client: FlaskClient, sql: Engine) -> None:
    """OPERATOR_API_KEY keeps working, as admin."""
    for (method, path), _ in API.items():
        assert _api_answer(client, method, path, OPERATOR_KEY) not in (401, 403), (method, path)


def test_revoked_key_is_refused(client: FlaskClient, keys: dict[str, str], sql: Engine) -> None:
    """A revoked key is a 401 at once."""
    assert _api_answer(client, "GET", "/api/v1/players/p1", keys["viewer"]) == 404
    staff.revoke_key(sql, "viewer-system")
    assert _api_answer(client, "GET", "/api/v1/players/p1", keys["viewer"]) == 401


@pytest.mark.parametrize("role", [None, *ROLES])
def test_back_office_routes_by_role(app: Flask, keys: dict[str, str], role: str | None) -> None:
    """Each back-office route as each role: below its role 403, anonymous to the login (or refused
    for want of a CSRF token), at or above it served."""
    for (method, path), needed in OFFICE.items():
        client = app.test_client()
        if role:
            assert sign_in(client, role, PASSWORD).status_code == 302
        data = {"csrf_token": csrf_of(client, "/backoffice/login")} if method == "POST" else None
        response = client.open(path, method=method, data=data)
        response.close()  # the stylesheet is streamed from its file
        status, where = response.status_code, response.headers.get("Location", "")
        to_login = status == 302 and where.startswith("/backoffice/login?next=")  # sent to sign in first
        if needed is None:
            assert status == (401 if method == "POST" else 200), (path, status)
        elif role is None:
            assert to_login, (method, path, status)
        elif ROLES.index(role) < ROLES.index(needed):
            assert status == 403, (role, method, path, status)
        else:
            assert status not in (401, 403) and not to_login, (role, method, path, status)


def test_second_factor(app: Flask, sql: Engine) -> None:
    """A user with TOTP: the right password without the code is answered exactly as a wrong
    password (nothing tells which half was right); a wrong code is refused; the right one signs
    in once: the same code again, even in another browser, is refused."""
    staff.add_user(sql, "ann", "cashier", PASSWORD)
    secret, uri = staff.enable_2fa(sql, "ann")
    assert uri.startswith("otpauth://totp/") and secret in uri
    client = app.test_client()
    without_code = sign_in(client, "ann", PASSWORD)
    wrong_password = sign_in(client, "ann", "wrong password here")
    assert without_code.status_code == wrong_password.status_code == 401
    page = lambda answer: re.sub(r'name="csrf_token" value="[^"]*"', "", answer.get_data(as_text=True))  # noqa: E731
    assert page(without_code) == page(wrong_password)  # the same page, to the letter (its CSRF token aside)
    assert sign_in(client, "ann", PASSWORD, "000000").status_code == 401
    code = pyotp.TOTP(secret).now()
    signed = sign_in(client, "ann", PASSWORD, code)
    assert signed.status_code == 302
    assert "ann (cashier)" in client.get("/backoffice/").get_data(as_text=True)
    assert sign_in(app.test_client(), "ann", PASSWORD, code).status_code == 401  # a code works once


def test_disabled_user_is_signed_out(app: Flask, sql: Engine) -> None:
    """Disabling a user refuses their next sign-in and ends their open session at its next request."""
    staff.add_user(sql, "bob", "viewer", PASSWORD)
    client = app.test_client()
    assert sign_in(client, "bob", PASSWORD).status_code == 302
    staff.set_disabled(sql, "bob", True)
    assert client.get("/backoffice/").headers["Location"].startswith("/backoffice/login")
    assert sign_in(client, "bob", PASSWORD).status_code == 401


@pytest.fixture
def strict(redis_client: redis.Redis, prefix: str, database_url: str) -> Iterator[Flask]:
    """The service with WALLET_REQUIRE_2FA=1."""
    app = create_app(make_env(prefix, database_url, WALLET_REQUIRE_2FA="1"), client=redis_client)
    yield app
    app.extensions["wallet"].db.dispose()


def test_required_second_factor_for_admins(strict: Flask) -> None:
    """WALLET_REQUIRE_2FA=1: an admin without TOTP (and the operator key) cannot sign in; with TOTP
    the admin can; other roles need none."""
    engine = strict.extensions["wallet"].db
    with engine.begin() as conn:
        conn.execute(db.staff_users.delete())
    staff.add_user(engine, "root", "admin", PASSWORD)
    staff.add_user(engine, "carl", "cashier", PASSWORD)
    client = strict.test_client()
    assert sign_in(client, "root", PASSWORD).status_code == 403
    assert sign_in(client).status_code == 403
    assert sign_in(client, "carl", PASSWORD).status_code == 302
    secret, _ = staff.enable_2fa(engine, "root")
    assert sign_in(strict.test_client(), "root", PASSWORD, pyotp.TOTP(secret).now()).status_code == 302


def _cli(app: Flask, *args: str, stdin: str = "") -> Any:
    return CliRunner().invoke(main, list(args), obj=app, input=stdin)


def test_command_line(app: Flask, sql: Engine) -> None:
    """`wallet user` and `wallet key`: add (password from stdin), role, 2fa, disable, list; keys shown
    once and usable; a refused change is one line; every change is in the audit trail."""
    added = _cli(app, "user", "add", "Dana", "--role", "viewer", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.exit_code == 0 and "user dana added as viewer" in added.output
    assert _cli(app, "user", "role", "dana", "cashier").exit_code == 0
    second = _cli(app, "user", "2fa", "dana")
    assert "otpauth://totp/" in second.output
    assert _cli(app, "user", "disable", "dana").exit_code == 0
    assert "dana                     cashier  2fa disabled" in _cli(app, "user", "list").output
    short = _cli(app, "user", "add", "eve", "--role", "viewer", "--password-stdin", stdin="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    key = _cli(app, "key", "add", "crm", "--role", "viewer").output.strip()
    assert key.startswith("wk_")
    client = app.test_client()
    assert client.get("/api/v1/audit", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert _cli(app, "key", "revoke", "crm").exit_code == 0
    assert client.get("/api/v1/audit", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    rows = client.get("/api/v1/audit?limit=20", headers={"Authorization": f"Bearer {OPERATOR_KEY}"}).get_json()
    actions = [(row["action"], row["outcome"]) for row in rows["items"]]
    assert actions[::-1] == [
        ("user_add", "ok"),
        ("user_role", "ok"),
        ("user_2fa_on", "ok"),
        ("user_disable", "ok"),
        ("user_add", "refused"),
        ("key_add", "ok"),
        ("key_revoke", "ok"),
    ]
    assert all(row["actor"].startswith("cli:") for row in rows["items"])
    assert PASSWORD not in str(rows) and key not in str(rows)
