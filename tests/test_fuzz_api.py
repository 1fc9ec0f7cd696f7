"""Schemathesis against /openapi.json: generated requests to the operator API and both callback
surfaces never get a 5xx, and every response matches the document."""

from __future__ import annotations

import json
import time
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.engine import Engine

from tests.conftest import AGENT, OPERATOR_KEY, ace_json, ace_sign, gsp_sign
from wallet.operator import throttle


def test_generated_requests(app: Flask, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """No 5xx, documented status codes, content types and bodies, on every documented operation
    (platform calls excluded: they are tested against fake providers). Schemathesis sends a wrong
    key to every operation from one address; the throttle that would answer 429 past 20 of them
    is tested on its own (test_hardening.py), so its limit is lifted here."""
    monkeypatch.setattr(throttle, "PER_ADDRESS", 10_000)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app).exclude(path_regex=r"/(launch|games|free-spins)")
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()
        # Rules a schema cannot state: the report's date range (to >= from, at most 366 days), a
        # cashier amount's or a limit's decimals, which must fit the player's currency (JPY none,
        # BTC eight), and an exclusion's end, which depends on now (a cool-off 24 hours to 6 weeks).
        unstated = operation.path == "/api/v1/reports/ggr" or operation.path.endswith(
            ("/deposits", "/withdrawals", "/adjustments", "/limits", "/exclusions")
        )
        _fuzz(operation, [positive_data_acceptance] if unstated else [])
        checked.append(operation.label)
    assert len(checked) >= 15


def _fuzz(operation: Any, excluded: list[Any]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {OPERATOR_KEY}"}, excluded_checks=excluded)

    check()


def test_document_is_valid_openapi(client: FlaskClient) -> None:
    """/openapi.json is a valid OpenAPI 3 document covering both callback surfaces and the operator API."""
    document = client.get("/openapi.json").get_json()
    validate(document)
    assert {"/gitslotpark/Withdraw", "/igamingace", "/api/v1/players/{player}/deposits"} <= set(document["paths"])


#: Hostile text, ordinary input here: lone surrogates, NUL, CR/LF, ESC, a right-to-left override,
#: non-ASCII digits, an over-long id.
_hostile = st.sampled_from(
    ["\ud800", "a\x00b", "x\r\ny", "esc\x1b[31m", "\u202eevil", "\uff11\uff12", "\u0661\u0662.\u0665\u0660", "9" * 400]
)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30) | _hostile,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=12,
)
_gsp_like = st.fixed_dictionaries(
    {},
    optional={
        k: _json_values
        for k in (
            "agentID",
            "userID",
            "amount",
            "betAmount",
            "winAmount",
            "transactionID",
            "roundID",
            "sign",
            "freeSpin",
        )
    },
)
_ace_like = st.fixed_dictionaries(
    {"command": st.sampled_from(["balance", "bet", "win", "betwin", "cancel", "x"])},
    optional={
        k: _json_values
        for k in (
            "playerId",
            "transactionId",
            "roundId",
            "amount",
            "currency",
            "referenceId",
            "betAmount",
            "winAmount",
            "timestamp",
        )
    },
)
#: Number tokens no float can hold, written into a body as the provider would send them.
_raw_numbers = st.sampled_from(["1e999999", "-1e999999999", "1e-999999999", "1" + "0" * 40, "0.000000001", "1E+2"])


def _with_token(fields: dict[str, Any], key: str, token: str) -> bytes:
    text = json.dumps(fields)
    return (text[:-1] + (", " if fields else "") + f'"{key}": {token}' + "}").encode()


_bodies = st.one_of(
    st.binary(max_size=300),
    _gsp_like.map(json.dumps).map(str.encode),
    _ace_like.map(json.dumps).map(str.encode),
    _json_values.map(json.dumps).map(str.encode),
    st.builds(
        _with_token,
        st.one_of(_gsp_like, _ace_like),
        st.sampled_from(["amount", "betAmount", "winAmount", "timestamp", "transactionId", "roundId"]),
        _raw_numbers,
    ),
)


@given(
    body=_bodies,
    path=st.sampled_from(
        [
            "/gitslotpark/GetBalance",
            "/gitslotpark/Withdraw",
            "/gitslotpark/Deposit",
            "/gitslotpark/BetWin",
            "/gitslotpark/RollbackTransaction",
            "/igamingace",
        ]
    ),
)
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_raw_bodies_always_answer_200_json(app: Flask, body: bytes, path: str) -> None:
    """Any body at all, to any callback, is answered HTTP 200 with a JSON body (never 4xx/5xx, never HTML)."""
    response = app.test_client().post(path, data=body, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert isinstance(response.get_json(), dict)


_field_text = st.one_of(_hostile, st.text(max_size=20), st.sampled_from(["p1", "t1", "r1", "10.00", "1e999999"]))


@given(
    operation=st.sampled_from(["GetBalance", "Withdraw", "Deposit", "BetWin", "RollbackTransaction"]),
    fields=st.fixed_dictionaries(
        {k: _field_text for k in ("userID", "transactionID", "roundID")},
        optional={k: _field_text for k in ("amount", "betAmount", "winAmount")},
    ),
)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_signed_hostile_gitslotpark_bodies_answer_json(app: Flask, operation: str, fields: dict[str, str]) -> None:
    """Correctly signed GitSlotPark bodies carrying surrogates, NUL, CR/LF, non-ASCII digits or huge
    exponents in any field are answered HTTP 200 with a JSON result, never a 5xx."""
    body = {"agentID": AGENT, "amount": "1.00", "betAmount": "1.00", "winAmount": "0.00", **fields}
    try:
        body["sign"] = gsp_sign(operation, body)
    except (InvalidOperation, ValueError):  # an amount the test's own signer cannot format: unsigned
        body["sign"] = ""
    response = app.test_client().post(f"/gitslotpark/{operation}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert isinstance(response.get_json()["result"], int)


@given(
    command=st.sampled_from(["balance", "bet", "win", "betwin", "cancel"]),
    fields=st.fixed_dictionaries({k: _field_text for k in ("playerId", "gameCode", "bonusId", "currency")}),
    token=_raw_numbers,
)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_signed_hostile_igamingace_bodies_answer_json(
    app: Flask, command: str, fields: dict[str, str], token: str
) -> None:
    """Signed iGamingAce bodies with hostile text and number tokens no float holds are answered
    HTTP 200 with a JSON status, never a 5xx."""
    body: dict[str, Any] = {"command": command, "transactionId": 1, "roundId": 2, **fields}
    body["amount"] = Decimal(token)
    body["timestamp"] = int(time.time())
    response = app.test_client().post(
        "/igamingace",
        data=ace_json(body),
        headers={"X-Request-Signature": ace_sign(body)},
        content_type="application/json",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert isinstance(response.get_json()["statusCode"], str)
