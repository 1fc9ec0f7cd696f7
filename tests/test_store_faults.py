"""Redis trouble: 503 with a JSON body when it is unreachable, nothing half-applied, SCRIPT FLUSH survived."""

from __future__ import annotations

import pytest
import redis
from flask import Flask

from tests.conftest import AGENT, Operator, Provider, gsp_sign, make_env
from wallet import create_app
from wallet.core.store import connect
from wallet.errors import StoreUnavailable
from wallet.ops import guard


@pytest.fixture
def dead_app(prefix: str) -> Flask:
    """The app pointed at a port where no Redis listens."""
    return create_app(make_env(prefix), client=connect("redis://127.0.0.1:1"))


def test_callback_503_when_redis_unreachable(dead_app: Flask) -> None:
    """A correctly signed callback answers HTTP 503 with a JSON body (never HTML, never 500)."""
    response = dead_app.test_client().post("/gitslotpark/GetBalance", json=_signed_balance("p1"))
    assert response.status_code == 503
    assert response.get_json()["error"] == "store_unavailable"
    assert response.headers["Retry-After"] == "1"


def test_memory_report_unreachable_is_store_unavailable(dead_app: Flask) -> None:
    """The memory report (health page, /metrics) turns an unreachable Redis into StoreUnavailable, not a 500."""
    services = dead_app.extensions["wallet"]
    with pytest.raises(StoreUnavailable):
        guard.report(services.store, services.redis_watch)


def test_operator_api_and_healthz_503(dead_app: Flask) -> None:
    """The operator API and /healthz answer 503 JSON while Redis is unreachable."""
    client = dead_app.test_client()
    assert Operator(client).create("p1").status_code == 503
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["error"] == "store_unavailable"


def test_outage_then_retry_applies_once(
    app: Flask, redis_client: redis.Redis, operator: Operator, gsp: Provider, dead_app: Flask
) -> None:
    """A Withdraw refused with 503 during an outage changed nothing; its retry applies it exactly once."""
    operator.create("p1", balance="50.00")
    down = Provider(dead_app.test_client())
    response = down.client.post("/gitslotpark/Withdraw", json=_signed_withdraw("p1", "20.00", "t1"))
    assert response.status_code == 503
    assert gsp.balance("p1")["balance"] == 50.00
    assert gsp.withdraw("p1", "20.00", "t1")["balance"] == 30.00
    assert gsp.withdraw("p1", "20.00", "t1")["balance"] == 30.00


def test_script_flush_between_calls(redis_client: redis.Redis, operator: Operator, gsp: Provider) -> None:
    """After SCRIPT FLUSH (as after a Redis restart) the scripts are reloaded and calls go on."""
    operator.create("p1", balance="50.00")
    gsp.withdraw("p1", "5.00", "t1")
    redis_client.script_flush()
    assert gsp.withdraw("p1", "5.00", "t2")["balance"] == 40.00
    redis_client.script_flush()
    assert gsp.rollback("p1", "t1")["balance"] == 45.00
    redis_client.script_flush()
    assert gsp.balance("p1")["balance"] == 45.00


def _signed_balance(player: str) -> dict[str, str]:
    body = {"agentID": AGENT, "userID": player}
    return {**body, "sign": gsp_sign("GetBalance", body)}


def _signed_withdraw(player: str, amount: str, tx: str) -> dict[str, str]:
    body = {"agentID": AGENT, "userID": player, "amount": amount, "transactionID": tx, "roundID": "r1"}
    return {**body, "sign": gsp_sign("Withdraw", body)}
