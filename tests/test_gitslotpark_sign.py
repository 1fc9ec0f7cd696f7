"""GitSlotPark sign: the published test vector, tampered bodies, agent check, sign before storage."""

from __future__ import annotations

from tests.conftest import AGENT, Operator, Provider, gsp_sign, make_env
from wallet import create_app
from wallet.core.store import connect
from wallet.providers.gitslotpark.callbacks import _Account
from wallet.providers.gitslotpark.settings import GitSlotPark

VECTOR = "475D834ACC3AB61D7DF4EA42751C6275387BC1787A098D2D0E091698D9BF2043"
VECTOR_TX = "474e1a293c2f4e7ab122c52d68423fcb"
VECTOR_ROUND = "ab9c15f2efdd46278e4a56b303127234"


def test_published_test_vector() -> None:
    """HMAC-SHA256 of the documented input with key 1234567890 gives the documented sign."""
    account = _Account(GitSlotPark("Partner01", "1234567890", None, None, 0, "classic"))
    assert account.sign(f"Partner01Player0112.30{VECTOR_TX}{VECTOR_ROUND}") == VECTOR


def test_vector_accepted_end_to_end(operator: Operator, gsp: Provider) -> None:
    """The documented Withdraw, signed by the provider, is applied (amount 12.3 signed as 12.30)."""
    operator.create("Player01", balance="50.00")
    reply = gsp.withdraw("Player01", "12.3", VECTOR_TX, VECTOR_ROUND, sign=VECTOR)
    assert reply["result"] == 0
    assert gsp.balance("Player01")["balance"] == 37.70


def test_lowercase_sign_accepted(operator: Operator, gsp: Provider) -> None:
    """A lowercase hex sign carries the same bytes and is accepted."""
    operator.create("Player01", balance="50.00")
    body = {"agentID": AGENT, "userID": "Player01"}
    assert gsp.call("GetBalance", sign=gsp_sign("GetBalance", body).lower(), userID="Player01")["result"] == 0


def test_tampered_fields_refused(operator: Operator, gsp: Provider) -> None:
    """A body changed after signing (amount, player, tx, round) gets result 3 and moves nothing."""
    operator.create("Player01", balance="50.00")
    signed = {
        "agentID": AGENT,
        "userID": "Player01",
        "amount": "1.00",
        "transactionID": "t1",
        "roundID": "r1",
    }
    sign = gsp_sign("Withdraw", signed)
    for field, value in [
        ("amount", "40.00"),
        ("userID", "Player02"),
        ("transactionID", "t2"),
        ("roundID", "r2"),
    ]:
        body = {**signed, field: value}
        del body["agentID"]
        assert gsp.call("Withdraw", sign=sign, **body)["result"] == 3, field
    assert operator.balance("Player01") == "50.00"


def test_missing_wrong_and_malformed_sign(operator: Operator, gsp: Provider) -> None:
    """Missing, non-string, short and wrong signs all answer 3."""
    operator.create("Player01")
    response = gsp.client.post("/gitslotpark/GetBalance", json={"agentID": AGENT, "userID": "Player01"})
    assert response.get_json()["result"] == 3
    for sign in [123, "", "ABC", "0" * 64, VECTOR]:
        reply = gsp.client.post(
            "/gitslotpark/GetBalance", json={"agentID": AGENT, "userID": "Player01", "sign": sign}
        ).get_json()
        assert reply["result"] == 3, sign


def test_sign_with_other_key_refused(operator: Operator, gsp: Provider) -> None:
    """A sign made with another secret key answers 3."""
    operator.create("Player01")
    body = {"agentID": AGENT, "userID": "Player01"}
    assert gsp.call("GetBalance", sign=gsp_sign("GetBalance", body, secret="other"), userID="Player01")["result"] == 3


def test_wrong_agent_is_4(operator: Operator, gsp: Provider) -> None:
    """An agentID other than the configured one answers 4, even when correctly signed with it."""
    operator.create("Player01")
    body = {"agentID": "Partner02", "userID": "Player01"}
    body["sign"] = gsp_sign("GetBalance", body)
    assert gsp.client.post("/gitslotpark/GetBalance", json=body).get_json() == {"result": 4, "message": "Invalid agent"}


def test_sign_checked_before_storage(prefix: str) -> None:
    """A bad sign is answered 3 without touching Redis: with Redis unreachable it is still 3, not 503."""
    app = create_app(make_env(prefix), client=connect("redis://127.0.0.1:1"))
    gsp = Provider(app.test_client())
    assert gsp.call("GetBalance", sign="0" * 64, userID="Player01")["result"] == 3
    assert (
        gsp.client.post("/gitslotpark/GetBalance", json={"agentID": AGENT, "userID": "x", "sign": "0" * 64}).status_code
        == 200
    )
