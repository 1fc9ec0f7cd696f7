"""Structured logs: one JSON line per request with a request id, and no secret anywhere in them."""

from __future__ import annotations

import io
import json
import logging
import time

from flask.testing import FlaskClient

from tests.conftest import ACE_TOKEN, OPERATOR_KEY, SECRET, Ace, Operator, Provider, ace_sign, gsp_sign
from wallet.ops import requestlog
from wallet.ops.observe import JsonFormatter, TextFormatter


def _requests(stream: io.StringIO) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line["logger"] == "wallet.request"]


def test_one_json_line_per_request(
    client: FlaskClient, operator: Operator, gsp: Provider, log_lines: io.StringIO
) -> None:
    """Each request logs one JSON object with its request id, provider, operation, player, tx and outcome."""
    operator.create("p1", balance="10.00")
    response = client.post(
        "/gitslotpark/Withdraw",
        headers={"X-Request-ID": "router-abc-123"},
        json={
            "agentID": "Partner01",
            "userID": "p1",
            "amount": "1.00",
            "transactionID": "t1",
            "roundID": "r1",
            "sign": gsp_sign(
                "Withdraw",
                {"agentID": "Partner01", "userID": "p1", "amount": "1.00", "transactionID": "t1", "roundID": "r1"},
            ),
        },
    )
    assert response.headers["X-Request-ID"] == "router-abc-123"
    lines = _requests(log_lines)
    assert len(lines) == 3  # create, deposit, withdraw
    last = lines[-1]
    assert {
        k: last[k]
        for k in ("request_id", "method", "path", "status", "provider", "operation", "player", "tx", "outcome")
    } == {
        "request_id": "router-abc-123",
        "method": "POST",
        "path": "/gitslotpark/Withdraw",
        "status": 200,
        "provider": "gitslotpark",
        "operation": "Withdraw",
        "player": "p1",
        "tx": "t1",
        "outcome": "0",
    }
    assert isinstance(last["duration_ms"], float)
    assert len({line["request_id"] for line in lines}) == 3  # generated when the router sends none


def test_no_secrets_in_a_full_scenario(
    client: FlaskClient, operator: Operator, gsp: Provider, ace: Ace, log_lines: io.StringIO
) -> None:
    """Keys, tokens, signs and signatures never reach the logs, not even for refused requests."""
    operator.create("p1", balance="10.00")
    operator.sign_in("p1")
    signs = [gsp_sign("GetBalance", {"agentID": "Partner01", "userID": "p1"})]
    gsp.balance("p1")
    gsp.withdraw("p1", "1.00", "t1")
    gsp.rollback("p1", "t1")
    gsp.call("GetBalance", sign="F" * 64, userID="p1")
    ace.bet("p1", "1.00", 7)
    body = {"command": "balance", "playerId": "p1", "timestamp": 1}
    signs.append(ace_sign(body))
    ace.send(body)
    client.get("/api/v1/players/p1", headers={"Authorization": "Bearer wrong-key-value"})
    client.get("/metrics", headers={"Authorization": f"Bearer {OPERATOR_KEY}"})
    text = log_lines.getvalue()
    assert len(_requests(log_lines)) == 11
    for secret in [SECRET, ACE_TOKEN, OPERATOR_KEY, "wrong-key-value", "F" * 64, *signs]:
        assert secret not in text


def test_text_format_for_terminals() -> None:
    """In a terminal the same fields come out as one readable line per request of a batch."""
    record = logging.LogRecord("wallet.request", logging.INFO, "", 0, "requests", None, None)
    fields = {
        "ts": 1795395847.2,
        "request_id": "r1",
        "method": "POST",
        "path": "/igamingace",
        "status": 200,
        "duration_ms": 1.5,
        "provider": "igamingace",
        "operation": "bet",
        "player": "p1",
        "tx": "9",
        "outcome": "OK",
    }
    record.lines = [fields, {**fields, "player": "p2"}]
    first, second = TextFormatter().format(record).splitlines()
    assert "POST /igamingace" in first and "outcome=OK" in first and "player=p1" in first
    assert "player=p2" in second


def test_request_lines_are_written_within_the_flush_interval(client: FlaskClient, gsp: Provider) -> None:
    """Nobody flushes: the process's flusher thread writes a request's line within FLUSH_SECONDS
    (request lines are batched), and a warning is written at once, not batched."""
    requestlog.flush()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("wallet")
    logger.addHandler(handler)
    try:
        gsp.balance("nobody")
        logging.getLogger("wallet.test").warning("at once")
        assert "at once" in stream.getvalue()
        deadline = time.monotonic() + 10 * requestlog.FLUSH_SECONDS
        while "/gitslotpark/GetBalance" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        assert [line["path"] for line in lines if line["logger"] == "wallet.request"] == ["/gitslotpark/GetBalance"]
    finally:
        logger.removeHandler(handler)
