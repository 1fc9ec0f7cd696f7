"""Prometheus metrics: counted correctly over a scripted scenario, protected, and summed across workers."""

from __future__ import annotations

import time
from pathlib import Path

import redis
import requests
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import OPERATOR_KEY, REAL_REDIS_URL, Ace, Operator, Provider, forget, fresh_sqlite, make_env
from tests.servers import BIN, free_port, gunicorn_env, running
from wallet import create_app
from wallet.core.store import connect
from wallet.ops import requestlog

ROOT = Path(__file__).resolve().parent.parent


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {OPERATOR_KEY}"})
    assert response.status_code == 200
    return _samples(response.get_data(as_text=True))


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def delta(before: dict, after: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_scenario_counts(client: FlaskClient, operator: Operator, gsp: Provider, ace: Ace) -> None:
    """Callbacks by provider, operation and wire code, money by kind, latency observations."""
    operator.create("p1", balance="100.00")
    operator.sign_in("p1")
    before = scrape(client)
    gsp.withdraw("p1", "10.00", "t1")
    gsp.withdraw("p1", "10.00", "t1")  # duplicate: answered 0, counted once as money
    gsp.withdraw("p1", "11.00", "t1")  # conflicting replay: code 2
    gsp.withdraw("p1", "500.00", "t2")  # insufficient: code 6
    gsp.deposit("p1", "2.50", "w1")
    gsp.rollback("p1", "t1")
    ace.bet("p1", "1.00", 1)
    ace.bet_win("p1", "2.00", "3.00", 2)
    after = scrape(client)
    calls = lambda operation, outcome, provider="gitslotpark": delta(  # noqa: E731
        before, after, "wallet_callbacks_total", provider=provider, operation=operation, outcome=outcome
    )
    assert (calls("Withdraw", "0"), calls("Withdraw", "2"), calls("Withdraw", "6")) == (2, 1, 1)
    assert (calls("Deposit", "0"), calls("RollbackTransaction", "0")) == (1, 1)
    assert (calls("bet", "OK", "igamingace"), calls("betwin", "OK", "igamingace")) == (1, 1)
    money = lambda kind, provider="gitslotpark": delta(  # noqa: E731
        before, after, "wallet_money_minor_total", provider=provider, currency="EUR", kind=kind
    )
    assert (money("bet"), money("win"), money("rollback")) == (1000, 250, 1000)
    assert (money("bet", "igamingace"), money("win", "igamingace")) == (300, 300)
    replays = lambda kind: delta(before, after, "wallet_replays_total", provider="gitslotpark", kind=kind)  # noqa: E731
    assert (replays("duplicate"), replays("conflict")) == (1, 1)
    count = delta(before, after, "wallet_callback_seconds_count", provider="gitslotpark", operation="Withdraw")
    assert count == 4
    assert ("wallet_snapshot_lag_seconds", ()) in after


def test_metrics_protected(redis_client: redis.Redis, prefix: str, client: FlaskClient) -> None:
    """Without the operator key /metrics is 401; METRICS_ALLOW lets listed addresses in without it."""
    assert client.get("/metrics").status_code == 401
    allowed = create_app(make_env(prefix, METRICS_ALLOW="127.0.0.0/8"), client=redis_client).test_client()
    assert allowed.get("/metrics").status_code == 200
    elsewhere = create_app(make_env(prefix, METRICS_ALLOW="10.0.0.0/8"), client=redis_client).test_client()
    assert elsewhere.get("/metrics").status_code == 401


def test_unavailable_counted(prefix: str, client: FlaskClient, gsp: Provider) -> None:
    """A callback answered 503 because Redis is down is counted."""
    before = scrape(client)
    dead = create_app(make_env(prefix), client=connect("redis://127.0.0.1:1")).test_client()
    Provider(dead).client.post(
        "/gitslotpark/GetBalance", json={"agentID": "Partner01", "userID": "p", "sign": "0" * 64}
    )  # bad sign: 200, no Redis
    from tests.conftest import AGENT, gsp_sign

    body = {"agentID": AGENT, "userID": "p"}
    assert dead.post("/gitslotpark/GetBalance", json={**body, "sign": gsp_sign("GetBalance", body)}).status_code == 503
    after = scrape(client)
    assert delta(before, after, "wallet_store_unavailable_total", surface="gitslotpark") == 1
    assert (
        delta(before, after, "wallet_callbacks_total", provider="gitslotpark", operation="GetBalance", outcome="503")
        == 1
    )


def test_counts_across_gunicorn_workers(app: Flask, prefix: str, tmp_path: Path) -> None:
    """Under gunicorn (2 workers on a real Redis) /metrics sums every worker's counts."""
    port = free_port()
    env = gunicorn_env(
        port,
        OPERATOR_API_KEY=OPERATOR_KEY,
        WALLET_KEY_PREFIX=prefix,
        GITSLOTPARK_AGENT_ID="Partner01",
        GITSLOTPARK_SECRET_KEY="1234567890",
        DATABASE_URL=fresh_sqlite(tmp_path),
        WEB_CONCURRENCY="2" if REAL_REDIS_URL else "1",
    )
    if not REAL_REDIS_URL:
        env.pop("REDIS_URL", None)
    try:
        with running([str(BIN / "gunicorn"), "app:app"], env, port) as (base, _):
            for _ in range(40):  # a new connection each time: the workers share them out
                body = {"agentID": "Partner01", "userID": "x", "sign": "0"}
                requests.post(f"{base}/gitslotpark/GetBalance", json=body, timeout=5)
            counted = _callbacks_counted(base)
    finally:
        if REAL_REDIS_URL:
            forget(connect(REAL_REDIS_URL), prefix)
    assert counted == 40


def _callbacks_counted(base: str) -> float:
    """GetBalance callbacks /metrics shows, once they stop changing: each worker writes its samples
    within requestlog.FLUSH_SECONDS (the worker answering /metrics writes its own first)."""
    key = ("wallet_callbacks_total", (("operation", "GetBalance"), ("outcome", "3"), ("provider", "gitslotpark")))
    deadline, last = time.monotonic() + 20 * requestlog.FLUSH_SECONDS, -1.0
    while time.monotonic() < deadline:
        text = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {OPERATOR_KEY}"}, timeout=5).text
        counted = _samples(text).get(key, 0.0)
        if counted == 40 or counted == last:
            return counted
        last = counted
        time.sleep(requestlog.FLUSH_SECONDS * 2)
    return last
