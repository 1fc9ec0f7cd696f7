"""Back-office sessions end when they should: signing out, a password or role change, disabling
(even when enabled again) end every session of that user at once, copies of the cookie included."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from tests.conftest import OPERATOR_KEY, csrf_of, sign_in
from wallet.operator import staff

PASSWORD = "correct horse battery"


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding the same session cookie (a stolen or forgotten copy)."""
    other = app.test_client()
    cookie = client.get_cookie("session", path="/backoffice")
    assert cookie is not None
    other.set_cookie("session", cookie.value, path="/backoffice")
    return other


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/backoffice/").status_code == 200


def test_sign_out_ends_every_copy_of_the_session(app: Flask, engine: Engine) -> None:
    """After sign-out, a copy of the cookie cannot act: its POST is sent to the sign-in page, the
    player stays active and no row is written in that user's name."""
    staff.add_user(engine, "ann", "admin", PASSWORD)
    office = app.test_client()
    assert sign_in(office, "ann", PASSWORD).status_code == 302
    app.test_client().post(
        "/api/v1/players", json={"id": "p1", "currency": "EUR"}, headers={"Authorization": f"Bearer {OPERATOR_KEY}"}
    )
    stolen = _copy(app, office)
    token = csrf_of(stolen, "/backoffice/players/p1")
    office.post("/backoffice/logout", data={"csrf_token": csrf_of(office, "/backoffice/")})
    blocked = stolen.post("/backoffice/players/p1/status", data={"csrf_token": token, "status": "blocked"})
    assert blocked.status_code == 302 and "/backoffice/login" in blocked.headers["Location"]
    rows = app.test_client().get("/api/v1/audit?action=block", headers={"Authorization": f"Bearer {OPERATOR_KEY}"})
    assert rows.get_json()["items"] == []
    assert sign_in(app.test_client(), "ann", PASSWORD).status_code == 302  # signing in again works


@pytest.mark.parametrize(
    "change",
    [
        lambda db: staff.set_password(db, "bob", "another long password"),
        lambda db: staff.set_role(db, "bob", "viewer"),
        lambda db: (staff.set_disabled(db, "bob", True), staff.set_disabled(db, "bob", False)),
        lambda db: staff.enable_2fa(db, "bob"),
    ],
    ids=["password", "role", "disable-then-enable", "second-factor"],
)
def test_a_change_of_the_user_ends_its_sessions(app: Flask, engine: Engine, change: Callable[[Engine], object]) -> None:
    """A password, role or second-factor change, or disabling then enabling, ends open sessions."""
    staff.add_user(engine, "bob", "cashier", PASSWORD)
    office = app.test_client()
    assert sign_in(office, "bob", PASSWORD).status_code == 302 and _signed_in(office)
    change(engine)
    assert not _signed_in(office)


def test_operator_key_sign_out_ends_its_other_sessions(app: Flask) -> None:
    """The operator key's back-office sessions end together too."""
    office = app.test_client()
    assert sign_in(office).status_code == 302
    other = _copy(app, office)
    assert _signed_in(other)
    office.post("/backoffice/logout", data={"csrf_token": csrf_of(office, "/backoffice/")})
    assert not _signed_in(other)
