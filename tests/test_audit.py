"""The audit trail: one row per state-changing action through the operator API and the back
office, with actor, role, amounts, reason, client address, request id and outcome; read with
filters and pagination; a manual adjustment needs a reason."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from tests.conftest import OPERATOR_KEY, csrf_of, sign_in
from wallet.ledger.snapshot import drain_once
from wallet.operator import staff

PASSWORD = "correct horse battery"


@pytest.fixture
def sql(engine: Engine) -> Engine:
    """The app's SQL store (the app fixture starts it without users, keys or audit rows)."""
    return engine


def _rows(client: FlaskClient, query: str = "") -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/audit?limit=100{query}", headers={"Authorization": f"Bearer {OPERATOR_KEY}"})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["items"][::-1]  # oldest first


def _drained_rows(app: Flask, client: FlaskClient) -> list[dict[str, Any]]:
    """The trail once the worker has drained (a money movement's row travels with its ledger
    entry), in the order things happened."""
    services = app.extensions["wallet"]
    drain_once(services.store, services.db)
    return sorted(_rows(client), key=lambda row: row["at"])


def test_each_api_action_is_one_row(app: Flask, client: FlaskClient, sql: Engine) -> None:
    """Create, deposit, withdrawal, adjustment, block, unblock, session open and close by a cashier
    key and the bootstrap key: one row each, with who, what, how much, from where and the outcome."""
    cashier = {"Authorization": f"Bearer {staff.add_key(sql, 'till', 'cashier')}"}
    admin = {"Authorization": f"Bearer {OPERATOR_KEY}", "X-Request-ID": "req-block-1"}
    client.post("/api/v1/players", json={"id": "p1", "currency": "EUR"}, headers=cashier)
    client.post("/api/v1/players/p1/deposits", json={"amount": "50.00"}, headers={**cashier, "Idempotency-Key": "d1"})
    client.post("/api/v1/players/p1/deposits", json={"amount": "50.00"}, headers={**cashier, "Idempotency-Key": "d1"})
    over = client.post(
        "/api/v1/players/p1/withdrawals", json={"amount": "80.00"}, headers={**cashier, "Idempotency-Key": "w1"}
    )
    assert over.status_code == 409
    adjusted = client.post(
        "/api/v1/players/p1/adjustments",
        json={"amount": "-2.50", "reason": "goodwill reversal, ticket 123"},
        headers={**cashier, "Idempotency-Key": "a1"},
    )
    assert adjusted.status_code == 201 and adjusted.get_json()["balance"] == "47.50"
    client.patch("/api/v1/players/p1", json={"status": "blocked"}, headers=admin)
    client.patch("/api/v1/players/p1", json={"status": "active"}, headers={**admin, "X-Request-ID": "req-2"})
    client.post("/api/v1/players/p1/sessions", headers=cashier)
    client.delete("/api/v1/players/p1/sessions", headers=cashier)
    rows = _drained_rows(app, client)
    summary = [(r["action"], r["actor"], r["role"], r["amount"], r["currency"], r["outcome"]) for r in rows]
    assert summary == [
        ("player_create", "till", "cashier", None, "EUR", "ok"),
        ("deposit", "till", "cashier", "50.00", "EUR", "ok"),
        ("deposit", "till", "cashier", "50.00", "EUR", "replayed"),
        ("withdrawal", "till", "cashier", "80.00", None, "insufficient_funds"),
        ("adjustment", "till", "cashier", "-2.50", "EUR", "ok"),
        ("block", "operator-key", "admin", None, None, "ok"),
        ("unblock", "operator-key", "admin", None, None, "ok"),
        ("session_open", "till", "cashier", None, None, "ok"),
        ("session_close", "till", "cashier", None, None, "ok"),
    ]
    assert rows[4]["reason"] == "goodwill reversal, ticket 123"
    assert rows[5]["request_id"] == "req-block-1" and rows[5]["client"] == "127.0.0.1"
    assert all(r["player"] == "p1" and r["at"].endswith("Z") for r in rows)


def test_adjustment_needs_a_reason_and_changes_nothing_without(client: FlaskClient, sql: Engine) -> None:
    """No reason (or zero) is a 422 and moves no money."""
    headers = {"Authorization": f"Bearer {OPERATOR_KEY}", "Idempotency-Key": "a1"}
    client.post("/api/v1/players", json={"id": "p1", "currency": "EUR"}, headers=headers)
    for body in ({"amount": "5.00"}, {"amount": "5.00", "reason": ""}, {"amount": "0", "reason": "nothing"}):
        answer = client.post("/api/v1/players/p1/adjustments", json=body, headers=headers)
        assert answer.status_code == 422, body
    player = client.get("/api/v1/players/p1", headers=headers).get_json()
    assert player["balance"] == "0.00"


def test_filters_and_pages(client: FlaskClient, sql: Engine) -> None:
    """?player= ?actor= ?action= ?since= ?until= filter; next_cursor pages further back."""
    headers = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    for player in ("p1", "p2", "p3"):
        client.post("/api/v1/players", json={"id": player, "currency": "EUR"}, headers=headers)
        client.patch(f"/api/v1/players/{player}", json={"status": "blocked"}, headers=headers)
    assert [r["action"] for r in _rows(client, "&player=p2")] == ["player_create", "block"]
    assert len(_rows(client, "&action=block")) == 3
    assert len(_rows(client, "&actor=operator-key")) == 6 and _rows(client, "&actor=nobody") == []
    assert len(_rows(client, "&since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z")) == 6
    assert _rows(client, "&until=2000-01-01T00:00:00Z") == []
    first = client.get("/api/v1/audit?limit=4", headers=headers).get_json()
    rest = client.get(f"/api/v1/audit?limit=4&cursor={first['next_cursor']}", headers=headers).get_json()
    assert len(first["items"]) == 4 and len(rest["items"]) == 2 and rest["next_cursor"] is None
    assert client.get("/api/v1/audit?limit=0", headers=headers).status_code == 422


def test_back_office_actions_are_rows(app: Flask, sql: Engine) -> None:
    """Sign-in (refused and accepted), a confirmed adjustment with its reason, a block, a user and a
    key added, a reconciliation and sign-out, each as the signed-in user."""
    staff.add_user(sql, "root", "admin", PASSWORD)
    office = app.test_client()
    assert sign_in(office, "root", "wrong password").status_code == 401
    assert sign_in(office, "root", PASSWORD).status_code == 302
    office.post(
        "/api/v1/players", json={"id": "p1", "currency": "EUR"}, headers={"Authorization": f"Bearer {OPERATOR_KEY}"}
    )
    token = csrf_of(office, "/backoffice/players/p1")
    form = {
        "csrf_token": token,
        "kind": "adjustment",
        "amount": "3.00",
        "reason": "promo credit",
        "idempotency_key": "k1",
    }
    confirm = office.post("/backoffice/players/p1/cashier", data=form).get_data(as_text=True)
    assert "Reason: <em>promo credit</em>" in confirm
    office.post("/backoffice/players/p1/cashier", data={**form, "confirm": "yes"})
    office.post("/backoffice/players/p1/status", data={"csrf_token": token, "status": "blocked"})
    office.post(
        "/backoffice/staff/users", data={"csrf_token": token, "name": "vic", "role": "viewer", "password": PASSWORD}
    )
    made = office.post("/backoffice/staff/keys", data={"csrf_token": token, "name": "crm", "role": "viewer"})
    assert 'id="secret">wk_' in made.get_data(as_text=True)
    office.post("/backoffice/health/reconcile", data={"csrf_token": token})
    drain_once(app.extensions["wallet"].store, sql)
    page = office.get("/backoffice/audit?action=adjustment").get_data(as_text=True)
    assert "promo credit" in page and "3.00 EUR" in page
    office.post("/backoffice/logout", data={"csrf_token": token})
    rows = [(r["action"], r["actor"], r["outcome"]) for r in _drained_rows(app, office)]
    assert rows == [
        ("login", "anonymous", "refused"),
        ("login", "root", "ok"),
        ("player_create", "operator-key", "ok"),
        ("adjustment", "root", "ok"),
        ("block", "root", "ok"),
        ("user_add", "root", "ok"),
        ("key_add", "root", "ok"),
        ("reconcile", "root", "ok"),
        ("logout", "root", "ok"),
    ]
    assert PASSWORD not in str(_rows(office))
    assert _rows(office, "&action=login")[0]["detail"] == "name tried: root"


def test_refused_sign_in_cannot_forge_an_actor(app: Flask, sql: Engine) -> None:
    """Names typed at a failed sign-in (cli:root, system, a line break, U+202E) never become the
    actor: it is `anonymous`, and the name tried is an escaped detail."""
    office = app.test_client()
    for name in ("cli:root", "system", "evil\nline", "rtl\u202eoverride"):
        assert sign_in(office, name, "not the password").status_code == 401
    rows = _rows(office, "&action=login")
    assert {r["actor"] for r in rows} == {"anonymous"}
    assert _rows(office, "&actor=cli:root") == [] and _rows(office, "&actor=system") == []
    details = [r["detail"] for r in rows]
    assert "name tried: evil\\nline" in details and "name tried: rtl\\u202eoverride" in details
    assert all(d.isascii() and d.isprintable() for d in details)


def test_no_code_path_changes_an_audit_row() -> None:
    """The audit table is only ever inserted into: no UPDATE or DELETE of it anywhere in wallet/."""
    from pathlib import Path

    sources = "\n".join(p.read_text() for p in (Path(__file__).parents[1] / "wallet").rglob("*.py"))
    assert "audit_log.insert()" in sources
    assert "audit_log.update(" not in sources and "audit_log.delete(" not in sources


def test_out_of_range_cursor_is_422(client: FlaskClient, sql: Engine) -> None:
    """A cursor past the BIGINT range is refused as a bad query (the back office ignores it), never
    sent to SQL."""
    answer = client.get(f"/api/v1/audit?cursor={2**64}", headers={"Authorization": f"Bearer {OPERATOR_KEY}"})
    assert answer.status_code == 422 and answer.get_json()["error"] == "invalid_query"
    sign_in(client)
    assert client.get(f"/backoffice/audit?cursor={2**64}").status_code == 200


def test_movement_and_its_row_are_one_step_when_sql_fails(
    app: Flask, client: FlaskClient, sql: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With SQL unreachable at the moment of an adjustment the money still moves (Redis is the
    store of record) and its audit row, journalled with it, reaches SQL when the worker drains:
    never a movement without its row. The replay with the same key and reason is recorded as a
    replay; another reason under that key is a conflict that moves nothing."""
    headers = {"Authorization": f"Bearer {OPERATOR_KEY}", "Idempotency-Key": "a1"}
    client.post("/api/v1/players", json={"id": "p1", "currency": "EUR"}, headers=headers)
    services = app.extensions["wallet"]
    broken = sa.create_engine(f"sqlite:///{Path(__file__).parent / 'no-such-folder' / 'wallet.db'}")
    monkeypatch.setitem(app.extensions, "wallet", dataclasses.replace(services, db=broken))
    body = {"amount": "7.25", "reason": "ticket 9, refund"}
    answer = client.post("/api/v1/players/p1/adjustments", json=body, headers=headers)
    assert answer.status_code == 201 and answer.get_json()["balance"] == "7.25"
    monkeypatch.undo()
    replay = client.post("/api/v1/players/p1/adjustments", json=body, headers=headers)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/players/p1/adjustments", json={**body, "reason": "rewritten"}, headers=headers)
    assert other.status_code == 409
    rows = [r for r in _drained_rows(app, client) if r["action"] == "adjustment"]
    # times of one width, so their text sorts as they happened (a whole millisecond lost its digits)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", r["at"]) for r in rows)
    assert [(r["outcome"], r["reason"]) for r in rows] == [
        ("ok", "ticket 9, refund"),
        ("replayed", "ticket 9, refund"),
        ("idempotency_conflict", "rewritten"),
    ]
    assert rows[0]["amount"] == "7.25" and rows[0]["actor"] == "operator-key"
    assert answer.get_json()["transaction_id"] in rows[0]["detail"]
    drain_once(services.store, services.db)  # nothing is written twice
    assert len([r for r in _rows(client) if r["action"] == "adjustment"]) == 3
