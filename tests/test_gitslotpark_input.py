"""GitSlotPark bad input: amounts, ids, JSON and content type all answer 2 (HTTP 200) and change nothing."""

from __future__ import annotations

import pytest

from tests.conftest import AGENT, Operator, Provider, gsp_sign


@pytest.fixture
def player(operator: Operator) -> str:
    operator.create("p1", balance="100.00")
    return "p1"


def _signed_raw(gsp: Provider, body_text: str) -> dict[str, object]:
    response = gsp.client.post("/gitslotpark/Withdraw", data=body_text, content_type="application/json")
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("amount", ["12.345", "-1.00", "abc", "", "1e3", "NaN", "10000000000000.01", None, True, [1]])
def test_bad_amount_strings_are_2(player: str, gsp: Provider, amount: object) -> None:
    """More than 2 decimals, negative, non-numeric, huge, null or boolean amounts answer 2."""
    body = {
        "agentID": AGENT,
        "userID": player,
        "amount": amount,
        "transactionID": "t1",
        "roundID": "r1",
        "sign": "0" * 64,
    }
    reply = gsp.client.post("/gitslotpark/Withdraw", json=body).get_json()
    assert reply["result"] == 2
    assert "amount" in reply["message"]
    assert gsp.balance(player)["balance"] == 100.00


@pytest.mark.parametrize(
    "token", ["12.345", "-1", "1e30", "10000000000000.01", "1e999999", "1e-999999999", "NaN", "Infinity"]
)
def test_bad_amount_json_numbers_are_2(player: str, gsp: Provider, token: str) -> None:
    """Amounts sent as JSON numbers are held to the same rules (parsed exactly, never as floats)."""
    text = (
        f'{{"agentID":"{AGENT}","userID":"{player}","amount":{token},'
        f'"transactionID":"t1","roundID":"r1","sign":"{"0" * 64}"}}'
    )
    assert _signed_raw(gsp, text)["result"] == 2
    assert gsp.balance(player)["balance"] == 100.00


def test_json_number_amounts_accepted(player: str, gsp: Provider) -> None:
    """12.3 as a JSON number is 12.30 exactly, signed as "12.30"."""
    sign = gsp_sign(
        "Withdraw", {"agentID": AGENT, "userID": player, "amount": "12.30", "transactionID": "t1", "roundID": "r1"}
    )
    text = (
        f'{{"agentID":"{AGENT}","userID":"{player}","amount":12.3,"transactionID":"t1","roundID":"r1","sign":"{sign}"}}'
    )
    assert _signed_raw(gsp, text)["balance"] == 87.70


def test_missing_fields_are_2(player: str, gsp: Provider) -> None:
    """A body without transactionID or roundID answers 2 naming the field."""
    body = {"agentID": AGENT, "userID": player, "amount": "1.00", "sign": "0" * 64}
    reply = gsp.client.post("/gitslotpark/Withdraw", json=body).get_json()
    assert reply["result"] == 2
    assert "transactionID" in reply["message"] and "roundID" in reply["message"]


def test_non_string_ids_are_2(player: str, gsp: Provider) -> None:
    """Ids must be strings (all fields of this protocol are)."""
    assert gsp.withdraw(player, "1.00", 12345)["result"] == 2  # type: ignore[arg-type]


def test_unicode_ids(operator: Operator, gsp: Provider) -> None:
    """Unicode transaction and round ids are signed as UTF-8 and applied once."""
    operator.create("p1", balance="10.00")
    assert gsp.withdraw("p1", "1.00", "ставка-🎰-1", round_id="раунд")["balance"] == 9.00
    assert gsp.withdraw("p1", "1.00", "ставка-🎰-1", round_id="раунд")["balance"] == 9.00
    assert gsp.balance("игрок")["result"] == 5


def test_10kb_ids_are_2(player: str, gsp: Provider) -> None:
    """Ids of 10 kB are refused as wrong input, for the player id as for the transaction id."""
    big = "x" * 10_240
    assert gsp.withdraw(player, "1.00", big)["result"] == 2
    assert gsp.balance(big)["result"] == 2
    assert gsp.withdraw(player, "1.00", "t1", round_id=big)["result"] == 2
    assert gsp.balance(player)["balance"] == 100.00


@pytest.mark.parametrize("text", ["{", "not json", "[]", '"a string"', "null", "", '{"agentID": }'])
def test_malformed_json_is_2(player: str, gsp: Provider, text: str) -> None:
    """Malformed JSON or a non-object body answers 2 with HTTP 200."""
    assert _signed_raw(gsp, text)["result"] == 2


def test_wrong_content_type_is_2(player: str, gsp: Provider) -> None:
    """A body that is not declared application/json answers 2 with HTTP 200."""
    response = gsp.client.post("/gitslotpark/GetBalance", data="agentID=x", content_type="text/plain")
    assert response.status_code == 200
    assert response.get_json()["result"] == 2


def test_oversized_body_is_413_json(player: str, gsp: Provider) -> None:
    """A body over the size limit answers HTTP 413 with a JSON error, before any parsing."""
    response = gsp.client.post("/gitslotpark/Withdraw", data="{" + " " * 70_000 + "}", content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"


def test_unknown_operation_is_404_json(gsp: Provider) -> None:
    """An operation GitSlotPark does not have is a JSON 404."""
    response = gsp.client.post("/gitslotpark/Transfer", json={})
    assert response.status_code == 404
    assert response.is_json
