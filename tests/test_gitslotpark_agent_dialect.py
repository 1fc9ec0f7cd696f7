"""GitSlotPark agent dialect (GITSLOTPARK_DIALECT=agent): code, gameID in the sign, refTransactionID."""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from tests.conftest import AGENT, SECRET, Operator, make_env
from wallet import create_app

#: Sign input of each call in the agent dialect, in order.
AGENT_SIGN = {
    "GetBalance": ("agentID", "userID"),
    "Withdraw": ("agentID", "userID", "amount", "transactionID", "roundID", "gameID"),
    "Deposit": ("agentID", "userID", "amount", "transactionID", "roundID", "refTransactionID", "gameID"),
    "BetWin": ("agentID", "userID", "betAmount", "winAmount", "transactionID", "roundID", "gameID"),
    "RollbackTransaction": ("agentID", "userID", "transactionID", "refTransactionID"),
}


@pytest.fixture
def client(redis_client: redis.Redis, prefix: str) -> FlaskClient:
    app = create_app(make_env(prefix, GITSLOTPARK_DIALECT="agent"), client=redis_client)
    client = app.test_client()
    Operator(client).create("p1", balance="100.00")
    return client


def agent_sign(operation: str, body: dict[str, Any]) -> str:
    """The sign a GitSlotPark of the agent dialect would send for ``body``."""
    parts = [
        f"{Decimal(str(body[name])):.2f}" if "mount" in name else str(body.get(name, ""))
        for name in AGENT_SIGN[operation]
    ]
    return hmac.new(SECRET.encode(), "".join(parts).encode(), hashlib.sha256).hexdigest().upper()


def call(client: FlaskClient, operation: str, sign: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"agentID": AGENT, "userID": "p1", **fields}
    body["sign"] = sign or agent_sign(operation, body)
    response = client.post(f"/gitslotpark/{operation}", json=body)
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def test_code_and_platform_transaction_id(client: FlaskClient) -> None:
    """Replies carry `code` and `platformTransactionID`; JSON-number amounts with an integer gameID."""
    reply = call(client, "Withdraw", amount=12.5, transactionID="t1", roundID="r1", gameID=42)
    assert (reply["code"], reply["balance"]) == (0, 87.50)
    assert reply["platformTransactionID"] and "result" not in reply and "transactionID" not in reply
    assert call(client, "GetBalance") == {"code": 0, "message": "OK", "balance": 87.50, "currency": "EUR"}


def test_game_id_is_signed(client: FlaskClient) -> None:
    """A body whose gameID differs from the signed one is refused with code 3."""
    body = {
        "agentID": AGENT,
        "userID": "p1",
        "amount": 1,
        "transactionID": "t1",
        "roundID": "r1",
        "gameID": 42,
    }
    text = "".join(str(body[n]) if n != "amount" else "1.00" for n in AGENT_SIGN["Withdraw"])
    body["sign"] = hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    body["gameID"] = 43
    assert client.post("/gitslotpark/Withdraw", json=body).get_json()["code"] == 3


def test_game_id_required_and_integer(client: FlaskClient) -> None:
    """Money calls without an integer gameID answer code 2."""
    assert call(client, "Withdraw", amount=1, transactionID="t1", roundID="r1")["code"] == 2
    assert call(client, "Withdraw", amount=1, transactionID="t1", roundID="r1", gameID="42")["code"] == 2


def test_deposit_with_ref_transaction(client: FlaskClient) -> None:
    """A Deposit names its bet in refTransactionID (signed); one without a bet is accepted too."""
    call(client, "Withdraw", amount=10, transactionID="b1", roundID="r1", gameID=7)
    assert (
        call(client, "Deposit", amount=30, transactionID="w1", roundID="r1", gameID=7, refTransactionID="b1")["balance"]
        == 120.00
    )
    assert call(client, "Deposit", amount=1, transactionID="w2", roundID="r2", gameID=7)["balance"] == 121.00


def test_rollback_by_ref_with_own_id(client: FlaskClient) -> None:
    """Rollback reverses refTransactionID; its own transactionID makes a replay answer 0 again."""
    call(client, "Withdraw", amount=10, transactionID="b1", roundID="r1", gameID=7)
    first = call(client, "RollbackTransaction", transactionID="rb1", refTransactionID="b1")
    assert (first["code"], first["balance"]) == (0, 100.00)
    again = call(client, "RollbackTransaction", transactionID="rb1", refTransactionID="b1")
    assert (again["code"], again["platformTransactionID"]) == (0, first["platformTransactionID"])
    assert call(client, "RollbackTransaction", transactionID="rb2", refTransactionID="b1")["code"] == 9
    assert call(client, "RollbackTransaction", transactionID="rb1", refTransactionID="b2")["code"] == 2


def test_rollback_before_bet(client: FlaskClient) -> None:
    """A rollback of an unknown bet answers 8, and the late bet is refused with 9."""
    assert call(client, "RollbackTransaction", transactionID="rb1", refTransactionID="late")["code"] == 8
    assert call(client, "Withdraw", amount=10, transactionID="late", roundID="r1", gameID=7)["code"] == 9
    assert call(client, "GetBalance")["balance"] == 100.00


def test_bet_win(client: FlaskClient) -> None:
    """BetWin works the same with gameID signed last."""
    reply = call(client, "BetWin", betAmount=5, winAmount=7.5, transactionID="bw1", roundID="r1", gameID=3)
    assert (reply["code"], reply["balance"]) == (0, 102.50)
