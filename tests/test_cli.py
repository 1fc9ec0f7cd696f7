"""The `wallet` command: player management without curl, and `wallet serve` as `make run` starts it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from flask import Flask

from tests.conftest import Operator
from tests.servers import BIN, free_port, running
from wallet.cli import main
from wallet.ledger.snapshot import drain_once

ROOT = Path(__file__).resolve().parent.parent


def test_player_lifecycle(app: Flask, operator: Operator) -> None:
    """create, deposit, withdraw, block, unblock and show act on the same store as the API."""

    def wallet(*args: str) -> str:
        return CliRunner().invoke(main, ["player", *args], obj=app).output

    assert "balance=0.00" in wallet("create", "p1", "eur")
    assert "balance=25.00" in wallet("deposit", "p1", "25.00", "--key", "k1")
    assert "balance=25.00" in wallet("deposit", "p1", "25.00", "--key", "k1")
    assert "balance=19.50" in wallet("withdraw", "p1", "5.50", "--key", "k2")
    assert "status=blocked" in wallet("block", "p1")
    assert "status=active" in wallet("unblock", "p1")
    shown = wallet("show", "p1")
    assert "balance=19.50" in shown and "currency=EUR" in shown
    assert operator.balance("p1") == "19.50"
    drain_once(app.extensions["wallet"].store, app.extensions["wallet"].db)  # movements' rows travel with them
    trail = operator.client.get("/api/v1/audit?player=p1", headers=operator.headers).get_json()["items"]
    trail = sorted(trail, key=lambda row: row["at"])
    assert [(r["action"], r["outcome"], r["amount"]) for r in trail] == [
        ("player_create", "ok", None),
        ("deposit", "ok", "25.00"),
        ("deposit", "replayed", "25.00"),
        ("withdrawal", "ok", "5.50"),
        ("block", "ok", None),
        ("unblock", "ok", None),
    ]
    assert all(r["actor"].startswith("cli:") and r["actor_kind"] == "cli" for r in trail)


def test_player_errors_exit_non_zero(app: Flask) -> None:
    """Unknown players, bad amounts and short balances exit non-zero with one line."""
    runner = CliRunner()
    missing = runner.invoke(main, ["player", "show", "ghost"], obj=app)
    assert missing.exit_code == 1 and "NO_PLAYER" in missing.output
    runner.invoke(main, ["player", "create", "p1", "EUR"], obj=app)
    bad = runner.invoke(main, ["player", "deposit", "p1", "1.234", "--key", "k"], obj=app)
    assert bad.exit_code == 1 and "invalid_fields" in bad.output
    short = runner.invoke(main, ["player", "withdraw", "p1", "1.00", "--key", "k"], obj=app)
    assert short.exit_code == 1 and "insufficient_funds" in short.output


def test_cli_cashier_is_the_api_path(app: Flask, operator: Operator) -> None:
    """The command line moves money through the API's cashier: amounts at the player's decimals
    (500 yen is 500, not 5.00), the same idempotency keys, adjustments with a reason."""
    runner = CliRunner()
    runner.invoke(main, ["player", "create", "jp", "JPY"], obj=app)
    paid = runner.invoke(main, ["player", "deposit", "jp", "500", "--key", "d1"], obj=app)
    assert paid.exit_code == 0 and "balance=500 " in paid.output and operator.balance("jp") == "500"
    assert operator.deposit("jp", "500", "d1").headers["Idempotent-Replayed"] == "true"  # the CLI's key
    fixed = runner.invoke(main, ["player", "adjust", "jp", "-20", "--key", "a1", "--reason", "typo"], obj=app)
    assert fixed.exit_code == 0 and "balance=480 " in fixed.output
    assert (
        runner.invoke(main, ["player", "adjust", "jp", "5", "--key", "a2", "--reason", "x\ny"], obj=app).exit_code == 1
    )


@pytest.mark.once
def test_serve_embedded_demo_and_sigterm(tmp_path: Path) -> None:
    """`wallet serve` without REDIS_URL prints the demo credentials, serves them, stops on SIGTERM,
    and keeps its data in SQL: the next start restores it."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "OPERATOR_API_KEY")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'wallet.db'}"
    headers = {"Authorization": "Bearer demo-operator-key"}
    output, created = _serve(
        env,
        lambda base: requests.post(
            f"{base}/api/v1/players", json={"id": "demo", "currency": "EUR"}, headers=headers, timeout=5
        ),
    )
    assert created.status_code == 201
    assert "demo-operator-key" in output and "demo-secret" in output and "demo-token" in output
    _, again = _serve(env, lambda base: requests.get(f"{base}/api/v1/players/demo", headers=headers, timeout=5))
    assert again.json()["balance"] == "0.00"


def _serve(env: dict[str, str], call: Any) -> tuple[str, Any]:
    """Start `wallet serve` on the PORT it is given (as `make run` does), wait for /healthz, return
    (its output after SIGTERM, call(base url))."""
    port = free_port()
    with running([str(BIN / "wallet"), "serve"], {**env, "PORT": str(port)}, port) as (base, proc):
        answer = call(base)
    assert proc.returncode == 0, proc.output
    return proc.output, answer


def test_sign_prints_igamingace_signature(app: Flask) -> None:
    """`wallet sign BODY` prints the same signature the service verifies, and refuses a nested body."""
    from tests.conftest import ace_sign

    body = '{"command":"balance","playerId":"p1","timestamp":1713792000}'
    result = CliRunner().invoke(main, ["sign", body], obj=app)
    assert result.output.strip() == ace_sign({"command": "balance", "playerId": "p1", "timestamp": 1713792000})
    assert CliRunner().invoke(main, ["sign", '{"a": [1]}'], obj=app).exit_code == 1


def test_sign_prints_gitslotpark_sign(app: Flask, operator: Operator) -> None:
    """`wallet sign --provider gitslotpark --operation Withdraw BODY` prints the sign GitSlotPark
    would send, which the service accepts; an unknown operation or a bad body exits 1, naming it."""
    from tests.conftest import AGENT, gsp_sign

    operator.create("p1", balance="10.00")
    body = {"agentID": AGENT, "userID": "p1", "amount": "2.50", "transactionID": "t1", "roundID": "r1"}
    args = ["sign", "--provider", "gitslotpark", "--operation", "Withdraw", json.dumps(body)]
    sign = CliRunner().invoke(main, args, obj=app).output.strip()
    assert sign == gsp_sign("Withdraw", body)
    answer = app.test_client().post("/gitslotpark/Withdraw", json={**body, "sign": sign}).get_json()
    assert (answer["result"], answer["balance"]) == (0, 7.50)
    wrong = CliRunner().invoke(main, [*args[:4], "Bet", json.dumps(body)], obj=app)
    assert wrong.exit_code == 1 and "unknown operation 'Bet'" in wrong.output
    bad = CliRunner().invoke(main, [*args[:5], '{"agentID": "x"}'], obj=app)
    assert bad.exit_code == 1 and "BODY:" in bad.output


def test_migrate_and_snapshot_once(app: Flask, operator: Operator) -> None:
    """`wallet migrate` creates the schema; `wallet snapshot --once` drains what is there."""
    runner = CliRunner()
    assert "schema up to date" in runner.invoke(main, ["migrate"], obj=app).output
    operator.create("p1", balance="5.00")
    drained = runner.invoke(main, ["snapshot", "--once"], obj=app)
    assert drained.exit_code == 0
    assert "drained 2 entries (1 balance changes)" in drained.output
    assert "drained 0 entries" in runner.invoke(main, ["snapshot", "--once"], obj=app).output


@pytest.mark.once
def test_snapshot_worker_stops_on_sigterm(tmp_path: Path) -> None:
    """The worker keeps retrying while Redis is unreachable, and exits 0 on SIGTERM."""
    env = {
        **os.environ,
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "OPERATOR_API_KEY": "k" * 16,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'wallet.db'}",
        "WALLET_FILE_DATABASE": "1",
    }
    wallet = Path(sys.executable).parent / "wallet"
    log = tmp_path / "snapshot.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(wallet), "snapshot", "--every", "0.2"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 30
    while log.read_text().count("Redis unavailable") < 3:  # SIGTERM only once the job has retried
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=15)
    output = log.read_text()
    assert proc.returncode == 0, output
    assert "snapshot job: stopped" in output
