"""The back office through Flask's client: login, search, player page, block, cashier with
confirmation and idempotency, CSRF, reports and health."""

from __future__ import annotations

import re

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from tests.conftest import Operator, Provider, csrf_of, make_env, sign_in
from wallet import create_app, providers
from wallet.ledger.snapshot import drain_once


def _csrf(client: FlaskClient) -> str:
    return csrf_of(client, "/backoffice/")


@pytest.fixture
def office(client: FlaskClient, engine: Engine) -> FlaskClient:
    """A client signed in to the back office with the operator key (with its SQL store migrated)."""
    assert sign_in(client).status_code == 302
    return client


def test_sql_down_is_503_not_500(redis_client: redis.Redis, prefix: str) -> None:
    """With SQL unreachable, what reads it answers 503 naming the cause, while callbacks go on."""
    app = create_app(make_env(prefix, "postgresql://wallet@127.0.0.1:1/none"), client=redis_client)
    operator = Operator(app.test_client())
    operator.create("p1")
    response = operator.client.get("/api/v1/players/p1/transactions", headers=operator.headers)
    assert (response.status_code, response.get_json()["error"]) == (503, "database_unavailable")
    assert Provider(app.test_client()).balance("p1")["result"] == 0


def test_login_required_and_wrong_key(client: FlaskClient) -> None:
    """Pages redirect to the login; a wrong key is refused with a message."""
    assert client.get("/backoffice/").headers["Location"].startswith("/backoffice/login")
    refused = sign_in(client, password="nope")
    assert refused.status_code == 401 and "Wrong name, password or code." in refused.get_data(as_text=True)


def test_session_cookie_scoped_to_back_office(client: FlaskClient, engine: Engine, gsp: Provider) -> None:
    """The login cookie is sent only to /backoffice; callbacks neither read nor set one."""
    cookie = sign_in(client).headers["Set-Cookie"]
    assert "Path=/backoffice" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    answer = gsp.client.post("/gitslotpark/GetBalance", json={}, headers={"Cookie": cookie.split(";")[0]})
    assert "Set-Cookie" not in answer.headers


def test_search_and_player_page(
    app: Flask, engine: Engine, office: FlaskClient, operator: Operator, gsp: Provider
) -> None:
    """Search finds players by prefix (and a brand-new one by its exact id); the page shows the ledger
    and a provider filter listing every registered provider."""
    operator.create("alice", balance="12.00")
    operator.create("alfred")
    gsp.withdraw("alice", "2.00", "t1", round_id="r9")
    drain_once(app.extensions["wallet"].store, engine)
    operator.create("albert-new")
    listing = office.get("/backoffice/?q=al").get_data(as_text=True)
    assert "alice" in listing and "alfred" in listing and "10.00" in listing
    assert "albert-new" in office.get("/backoffice/?q=albert-new").get_data(as_text=True)
    page = office.get("/backoffice/players/alice").get_data(as_text=True)
    assert "10.00 EUR" in page and "r9" in page and "-2.00" in page
    select = page.split('name="provider"', 1)[1].split("</select>")[0]
    offered = re.findall(r"<option[^>]*>([a-z0-9]+)</option>", select)
    assert offered == ["any", *providers.names(), "cashier"]  # the filter lists the registry's providers
    assert "r9" not in office.get("/backoffice/players/alice?kind=deposit").get_data(as_text=True)
    assert office.get("/backoffice/players/ghost").status_code == 404


def test_block_and_unblock(office: FlaskClient, operator: Operator, gsp: Provider) -> None:
    """The block button blocks bets exactly as the API's status does."""
    operator.create("p1", balance="5.00")
    office.post("/backoffice/players/p1/status", data={"status": "blocked", "csrf_token": _csrf(office)})
    assert gsp.withdraw("p1", "1.00", "t1")["result"] == 1
    office.post("/backoffice/players/p1/status", data={"status": "active", "csrf_token": _csrf(office)})
    assert gsp.withdraw("p1", "1.00", "t1")["result"] == 0


def test_cashier_confirms_then_applies_once(office: FlaskClient, operator: Operator) -> None:
    """A deposit asks for confirmation first; confirming twice (a double click) applies it once."""
    operator.create("p1")
    form = {"kind": "deposit", "amount": "25.00", "idempotency_key": "form-1", "csrf_token": _csrf(office)}
    question = office.post("/backoffice/players/p1/cashier", data=form).get_data(as_text=True)
    assert "Deposit of <strong>25.00</strong> to <strong>p1</strong>?" in question
    assert operator.balance("p1") == "0.00"
    done = office.post("/backoffice/players/p1/cashier", data={**form, "confirm": "yes"}, follow_redirects=True)
    assert "Deposit of 25.00 done; balance 25.00." in done.get_data(as_text=True)
    again = office.post("/backoffice/players/p1/cashier", data={**form, "confirm": "yes"}, follow_redirects=True)
    assert "nothing repeated" in again.get_data(as_text=True)
    assert operator.balance("p1") == "25.00"


def test_cashier_uses_the_api_rules(office: FlaskClient, operator: Operator) -> None:
    """Bad amounts and withdrawals beyond the balance are refused with the API's own messages."""
    operator.create("p1", balance="5.00")
    for amount, message in [("1.234", "at most 2 decimals"), ("0.00", "greater than zero"), ("abc", "decimal")]:
        form = {"kind": "deposit", "amount": amount, "idempotency_key": "k", "csrf_token": _csrf(office)}
        page = office.post("/backoffice/players/p1/cashier", data=form, follow_redirects=True).get_data(as_text=True)
        assert "Not done" in page and message in page, amount
    form = {
        "kind": "withdrawal",
        "amount": "6.00",
        "idempotency_key": "w",
        "csrf_token": _csrf(office),
        "confirm": "yes",
    }
    page = office.post("/backoffice/players/p1/cashier", data=form, follow_redirects=True).get_data(as_text=True)
    assert "does not cover" in page
    assert operator.balance("p1") == "5.00"


def test_forms_need_the_csrf_token(office: FlaskClient, operator: Operator) -> None:
    """A post without the session's token (a forged form) is refused and changes nothing."""
    operator.create("p1")
    response = office.post("/backoffice/players/p1/status", data={"status": "blocked", "csrf_token": "forged"})
    assert response.status_code == 400
    assert "active" in office.get("/backoffice/players/p1").get_data(as_text=True)


def test_reports_and_health(app: Flask, engine: Engine, office: FlaskClient, operator: Operator, gsp: Provider) -> None:
    """GGR shows as a table and a chart; health shows the lag and runs the reconciliation."""
    operator.create("p1", balance="50.00")
    gsp.withdraw("p1", "10.00", "t1")
    gsp.deposit("p1", "4.00", "w1")
    drain_once(app.extensions["wallet"].store, engine)
    page = office.get("/backoffice/reports").get_data(as_text=True)
    assert re.search(r"<td class=\"num \">6\.00</td>", page) and "<svg" in page
    health = office.get("/backoffice/health").get_data(as_text=True)
    assert "nothing waiting" in health and "entries" in health
    assert "while kept in full" in health and "ids in the aged-id filter" in health
    checked = office.post("/backoffice/health/reconcile", data={"csrf_token": _csrf(office)}, follow_redirects=True)
    assert "1 players checked" in checked.get_data(as_text=True) and "all reconcile" in checked.get_data(as_text=True)
