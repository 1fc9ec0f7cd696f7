"""Redis settings that could lose money, on real redis-server processes: the eviction-policy guard at
start-up and while running, a full Redis answering 503 with nothing half-applied, and the memory gauges."""

from __future__ import annotations

import io
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from tests.conftest import OPERATOR_KEY, Operator, Provider, fresh_sqlite, gsp_sign, make_env
from tests.servers import BIN, ROOT, SERVER, RedisProcess, gunicorn_env
from wallet import create_app
from wallet.cli import main
from wallet.errors import ConfigError
from wallet.ops import guard, metrics

if SERVER is None and not os.environ.get("CI"):
    pytest.skip("redis-server is not installed here (CI has it and never skips these)", allow_module_level=True)

pytestmark = pytest.mark.once  # starts servers of its own: the first pass only (conftest)

METRICS = {"Authorization": f"Bearer {OPERATOR_KEY}"}


def _server(tmp_path: Path, *args: str) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path / "redis", *args).start()
    yield server
    server.kill()


@pytest.fixture
def evicting(tmp_path: Path) -> Iterator[RedisProcess]:
    yield from _server(tmp_path, "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")


@pytest.fixture
def capped(tmp_path: Path) -> Iterator[RedisProcess]:
    yield from _server(tmp_path, "--maxmemory", "3mb", "--maxmemory-policy", "noeviction")


def test_allkeys_policy_refused_at_start(evicting: RedisProcess, prefix: str, tmp_path: Path) -> None:
    """On allkeys-lru the app, the worker command and gunicorn all refuse to start, with one line
    naming maxmemory-policy, the value and the fix."""
    env = make_env(prefix, fresh_sqlite(tmp_path), REDIS_URL=evicting.url)
    with pytest.raises(ConfigError, match=r"^maxmemory-policy: .*allkeys-lru.*noeviction.*volatile-"):
        create_app(env)
    worker = CliRunner().invoke(main, ["snapshot", "--once"], env=env)
    assert worker.exit_code == 1 and worker.output.startswith("maxmemory-policy: ")
    web = subprocess.run(
        [str(BIN / "gunicorn"), "app:app"], cwd=ROOT, env=gunicorn_env(0, **env), capture_output=True, text=True
    )
    assert web.returncode != 0
    assert [line for line in web.stderr.splitlines() if line.startswith("maxmemory-policy: ")], web.stderr
    assert "Traceback" not in web.stderr


def test_volatile_policy_accepted(tmp_path: Path, wallet_on: object) -> None:
    """volatile-lru only evicts keys with a TTL (never balances or records): the wallet starts and is healthy."""
    server = RedisProcess(tmp_path / "v", "--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru").start()
    try:
        app = wallet_on(server.url)  # type: ignore[operator]
        assert app.test_client().get("/healthz").status_code == 200
    finally:
        server.kill()


def test_policy_changed_while_running(
    capped: RedisProcess, wallet_on: object, monkeypatch: pytest.MonkeyPatch, log_lines: io.StringIO
) -> None:
    """A policy turned to allkeys-* while running: healthz 503 naming it, the gauge 0, one log line;
    turned back, all is well again."""
    monkeypatch.setattr(guard, "CHECK_SECONDS", 0.0)  # re-read at every look instead of every 30 s
    client = wallet_on(capped.url).test_client()  # type: ignore[operator]
    assert client.get("/healthz").status_code == 200
    admin = redis.Redis.from_url(capped.url)
    try:
        admin.config_set("maxmemory-policy", "allkeys-random")
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["error"] == "redis_evicts"
        assert "maxmemory-policy" in health.get_json()["message"] and "allkeys-random" in health.get_json()["message"]
        assert 'wallet_redis_eviction_policy_safe{policy="allkeys-random"} 0.0' in client.get(
            "/metrics", headers=METRICS
        ).get_data(as_text=True)
        errors = [json.loads(line) for line in log_lines.getvalue().splitlines()]
        assert [e for e in errors if e["level"] == "error" and "allkeys-random" in e["message"]]
        admin.config_set("maxmemory-policy", "noeviction")
        assert client.get("/healthz").status_code == 200
    finally:
        admin.close()


def test_config_get_not_allowed(
    tmp_path: Path, wallet_on: object, monkeypatch: pytest.MonkeyPatch, log_lines: io.StringIO
) -> None:
    """A Redis that forbids CONFIG (some managed offerings): the wallet says so once and starts."""
    monkeypatch.setattr(guard, "_told_unknown", False)
    server = RedisProcess(tmp_path / "n", "--rename-command", "CONFIG", "").start()
    try:
        wallet_on(server.url)  # type: ignore[operator]
        wallet_on(server.url)  # type: ignore[operator]
        lines = [json.loads(line)["message"] for line in log_lines.getvalue().splitlines()]
        assert len([m for m in lines if m.startswith("maxmemory-policy: CONFIG GET is not allowed")]) == 1
    finally:
        server.kill()


def _fill(filler: redis.Redis) -> None:
    """Write small filler keys until Redis refuses with OOM (used memory is then just past maxmemory)."""
    try:
        for i in range(100_000):
            filler.set(f"filler:{i}", "x" * 500)
    except redis.exceptions.OutOfMemoryError:
        return
    raise AssertionError("Redis never reached maxmemory")


def test_full_redis_answers_503_and_applies_nothing(
    capped: RedisProcess, wallet_on: object, log_lines: io.StringIO
) -> None:
    """At maxmemory with noeviction a bet answers 503 JSON with Retry-After, one warning line (no
    traceback) and a count; balance, ledger and records are untouched; reads keep answering; once
    memory is freed, the retry applies once."""
    app = wallet_on(capped.url)  # type: ignore[operator]
    client, operator, gsp = app.test_client(), Operator(app.test_client()), Provider(app.test_client())
    operator.create("p1", balance="50.00")
    store = app.extensions["wallet"].store
    keys, raw = store.keys("p1"), store.client
    ledger_before = raw.xlen(keys.ledger)
    filler = redis.Redis.from_url(capped.url)
    full_before = metrics.REDIS_FULL.labels("gitslotpark")._value.get()  # other tests count too
    _fill(filler)
    body = {"agentID": "Partner01", "userID": "p1", "amount": "10.00", "transactionID": "t1", "roundID": "r1"}
    body["sign"] = gsp_sign("Withdraw", body)
    refused = client.post("/gitslotpark/Withdraw", json=body)
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert refused.get_json()["error"] == "store_full"
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    warnings = [line for line in lines if line["level"] == "warning"]
    assert len(warnings) == 1 and "maxmemory" in warnings[0]["message"] and "error" not in warnings[0]
    assert raw.xlen(keys.ledger) == ledger_before and raw.hget(keys.txs("gitslotpark"), "t1") is None
    assert (gsp.balance("p1")["result"], gsp.balance("p1")["balance"]) == (0, 50.0)
    assert operator.balance("p1") == "50.00"
    exposition = client.get("/metrics", headers=METRICS).get_data(as_text=True)
    assert f'wallet_redis_full_total{{surface="gitslotpark"}} {full_before + 1}' in exposition
    assert "wallet_redis_max_memory_bytes 3.145728e+06" in exposition
    for key in filler.scan_iter(match="filler:*"):
        filler.delete(key)
    filler.close()
    deadline = time.monotonic() + 5
    while (retry := client.post("/gitslotpark/Withdraw", json=body)).status_code == 503:  # the gate reads
        assert time.monotonic() < deadline  # INFO at most every 0.5 s: the provider's retry may come first
        time.sleep(0.1)
    assert retry.get_json()["balance"] == 40.0
    assert client.post("/gitslotpark/Withdraw", json=body).get_json()["balance"] == 40.0  # not applied again
    assert raw.xlen(keys.ledger) == ledger_before + 1
    exposition = client.get("/metrics", headers=METRICS).get_data(as_text=True)
    live = [line for line in exposition.splitlines() if line.startswith("wallet_redis_live_record_bytes ")]
    assert live and float(live[0].split()[1]) > 0  # the budget per record is measured by bench/soak.py
