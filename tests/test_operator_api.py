"""Operator API: bearer auth, players, cashier movements with Idempotency-Key, status, and every 4xx."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import OPERATOR_KEY, Operator, Provider


def test_requires_bearer_key(client: FlaskClient) -> None:
    """Without the right bearer key every endpoint answers 401 JSON with WWW-Authenticate."""
    for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": OPERATOR_KEY}]:
        response = client.get("/api/v1/players/p1", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_create_and_get_player(operator: Operator) -> None:
    """A created player starts active with 0.00 in its currency."""
    response = operator.create("player01", "USD")
    assert response.status_code == 201
    expected = {"id": "player01", "currency": "USD", "balance": "0.00", "status": "active"}
    assert response.get_json() == expected
    assert operator.client.get("/api/v1/players/player01", headers=operator.headers).get_json() == expected


def test_create_existing_is_409(operator: Operator) -> None:
    """Creating an id twice answers 409 and keeps the first player (and its currency)."""
    operator.create("p1", "EUR", balance="5.00")
    response = operator.create("p1", "USD")
    assert response.status_code == 409
    assert response.get_json()["error"] == "player_exists"
    assert operator.balance("p1") == "5.00"


@pytest.mark.parametrize(
    "body",
    [
        {"id": "p1"},
        {"currency": "EUR"},
        {"id": "p1", "currency": "eur"},
        {"id": "p1", "currency": "EURO"},
        {"id": "", "currency": "EUR"},
        {"id": "a{b}", "currency": "EUR"},
        {"id": "x" * 65, "currency": "EUR"},
        {"id": "p1", "currency": "EUR", "extra": 1},
        {"id": 5, "currency": "EUR"},
    ],
)
def test_create_validation_is_422(operator: Operator, body: dict[str, object]) -> None:
    """Missing, malformed or unknown fields answer 422 naming the field."""
    response = operator.client.post("/api/v1/players", json=body, headers=operator.headers)
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid_fields"


def test_body_errors(operator: Operator) -> None:
    """A non-JSON content type is 415, malformed JSON 400, a non-object 400."""
    post = operator.client.post
    assert post("/api/v1/players", data="id=p1", content_type="text/plain", headers=operator.headers).status_code == 415
    bad = post("/api/v1/players", data="{", content_type="application/json", headers=operator.headers)
    assert (bad.status_code, bad.get_json()["error"]) == (400, "invalid_json")
    assert post("/api/v1/players", json=[1], headers=operator.headers).get_json()["error"] == "invalid_body"


def test_unknown_player_is_404(operator: Operator) -> None:
    """Reading, updating or paying an unknown player answers 404."""
    assert operator.client.get("/api/v1/players/ghost", headers=operator.headers).status_code == 404
    assert operator.status("ghost", "blocked").status_code == 404
    assert operator.deposit("ghost", "1.00", key="k").status_code == 404


def test_deposit_and_withdrawal(operator: Operator) -> None:
    """Cashier movements change the balance and answer the movement with the balance after it."""
    operator.create("p1")
    deposit = operator.deposit("p1", "100.00", key="d1")
    assert deposit.status_code == 201
    body = deposit.get_json()
    assert (body["kind"], body["amount"], body["balance"]) == ("deposit", "100.00", "100.00")
    withdrawal = operator.withdraw("p1", "30.01", key="w1").get_json()
    assert (withdrawal["kind"], withdrawal["balance"]) == ("withdrawal", "69.99")
    assert operator.balance("p1") == "69.99"


def test_idempotency_key_replay_returns_first_answer(operator: Operator) -> None:
    """A replayed Idempotency-Key returns the first answer (same reference and balance), applied once."""
    operator.create("p1")
    first = operator.deposit("p1", "10.00", key="same")
    operator.deposit("p1", "5.00", key="other")
    again = operator.deposit("p1", "10.00", key="same")
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert (first.headers["Idempotent-Replayed"], again.headers["Idempotent-Replayed"]) == ("false", "true")
    assert operator.balance("p1") == "15.00"


def test_idempotency_key_reused_for_other_request_is_409(operator: Operator) -> None:
    """The same key with another amount or direction answers 409 and applies nothing."""
    operator.create("p1")
    operator.deposit("p1", "10.00", key="k1")
    assert operator.deposit("p1", "11.00", key="k1").get_json()["error"] == "idempotency_conflict"
    assert operator.withdraw("p1", "10.00", key="k1").status_code == 409
    assert operator.balance("p1") == "10.00"


def test_cashier_requires_idempotency_key(operator: Operator) -> None:
    """A movement without Idempotency-Key answers 400."""
    operator.create("p1")
    response = operator.client.post("/api/v1/players/p1/deposits", json={"amount": "1.00"}, headers=operator.headers)
    assert (response.status_code, response.get_json()["error"]) == (400, "idempotency_key_required")


@pytest.mark.parametrize("amount", ["0.00", "-1.00", "1.001", "abc", 1.5, 10, None, "100000000000.01"])
def test_cashier_amount_validation(operator: Operator, amount: object) -> None:
    """Zero, negative, over-precise, non-numeric, JSON-number and huge amounts answer 422."""
    operator.create("p1")
    response = operator.deposit("p1", amount, key="k")
    assert response.status_code == 422
    assert "amount" in response.get_json()["message"]
    assert operator.balance("p1") == "0.00"


def test_withdrawal_beyond_balance_is_409(operator: Operator) -> None:
    """A withdrawal the balance does not cover answers 409 insufficient_funds and the key stays unused."""
    operator.create("p1", balance="10.00")
    response = operator.withdraw("p1", "10.01", key="w1")
    assert (response.status_code, response.get_json()["error"]) == (409, "insufficient_funds")
    operator.deposit("p1", "0.01", key="d2")
    assert operator.withdraw("p1", "10.01", key="w1").status_code == 201


def test_block_and_unblock(operator: Operator, gsp: Provider) -> None:
    """PATCH status blocks and unblocks a player's bets; a bad status is 422."""
    operator.create("p1", balance="10.00")
    assert operator.status("p1", "blocked").get_json()["status"] == "blocked"
    assert gsp.withdraw("p1", "1.00", "t1")["result"] == 1
    assert operator.withdraw("p1", "1.00", key="cash-out").status_code == 201
    assert operator.status("p1", "frozen").status_code == 422
    assert operator.status("p1", "active").get_json()["status"] == "active"
    assert gsp.withdraw("p1", "1.00", "t1")["result"] == 0


def test_sessions(operator: Operator) -> None:
    """Sign-in opens a session (201 with its lifetime), sign-out closes it (204); unknown players 404."""
    operator.create("p1")
    opened = operator.sign_in("p1")
    assert opened.status_code == 201
    assert opened.get_json()["expires_in"] == 8 * 3600
    assert operator.sign_out("p1").status_code == 204
    assert operator.sign_out("p1").status_code == 204
    assert operator.sign_in("ghost").status_code == 404
    assert operator.sign_out("ghost").status_code == 404
    assert operator.client.post("/api/v1/players/p1/sessions").status_code == 401
