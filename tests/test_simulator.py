"""The simulator against our own service under gunicorn: the conformance suite passes for every
provider flavour, simulated play conserves money, and the suite does catch a broken wallet."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import REAL_REDIS_URL, forget, fresh_sqlite
from tests.hub88 import key, private_pem, public_pem
from tests.servers import BIN, free_port, gunicorn_env, running
from wallet.core.store import connect

KEY = "simulator-operator-key"


def _gunicorn(prefix: str, tmp_path: Path, **extra: str) -> Iterator[str]:
    """`gunicorn app:app` as the Procfile runs it: 2 workers on a real Redis, else 1 on the embedded store."""
    port = free_port()
    env = gunicorn_env(
        port,
        OPERATOR_API_KEY=KEY,
        WALLET_KEY_PREFIX=prefix,
        DATABASE_URL=fresh_sqlite(tmp_path),
        **extra,
    )
    env["WEB_CONCURRENCY"] = "2" if REAL_REDIS_URL else "1"
    if not REAL_REDIS_URL:
        env.pop("REDIS_URL", None)
    try:
        with running([str(BIN / "gunicorn"), "app:app"], env, port) as (url, _):
            yield url
    finally:
        if REAL_REDIS_URL:
            forget(connect(REAL_REDIS_URL), prefix)


@pytest.fixture
def service(prefix: str, tmp_path: Path) -> Iterator[str]:
    yield from _gunicorn(
        prefix,
        tmp_path,
        GITSLOTPARK_AGENT_ID="sim-agent",
        GITSLOTPARK_SECRET_KEY="sim-secret",
        IGAMINGACE_API_TOKEN="sim-token",
        HUB88_PUBLIC_KEY=public_pem(key()),  # a key pair made for the test; the simulator holds its private half
    )


@pytest.fixture
def agent_service(prefix: str, tmp_path: Path) -> Iterator[str]:
    yield from _gunicorn(
        prefix,
        tmp_path,
        GITSLOTPARK_AGENT_ID="sim-agent",
        GITSLOTPARK_SECRET_KEY="sim-secret",
        GITSLOTPARK_DIALECT="agent",
    )


ACCOUNTS = {
    "GITSLOTPARK_ACCOUNTS": "eur:EUR,jpy:JPY",
    "GITSLOTPARK_AGENT_ID_EUR": "agent-eur",
    "GITSLOTPARK_SECRET_KEY_EUR": "secret-eur",
    "GITSLOTPARK_AGENT_ID_JPY": "agent-jpy",
    "GITSLOTPARK_SECRET_KEY_JPY": "secret-jpy",
    "IGAMINGACE_ACCOUNTS": "eur:EUR,jpy:JPY,btc:BTC",
    "IGAMINGACE_API_TOKEN_EUR": "token-eur",
    "IGAMINGACE_API_TOKEN_JPY": "token-jpy",
    "IGAMINGACE_API_TOKEN_BTC": "token-btc",
    "WALLET_CURRENCIES": "BTC:8",
    "HUB88_ACCOUNTS": "eur:EUR,jpy:JPY",
    "HUB88_PUBLIC_KEY_EUR": public_pem(key()),
    "HUB88_SIMULATOR_KEY_EUR": private_pem(key()),
    "HUB88_PUBLIC_KEY_JPY": public_pem(key("jpy")),
    "HUB88_SIMULATOR_KEY_JPY": private_pem(key("jpy")),
}


@pytest.fixture
def accounts_service(prefix: str, tmp_path: Path) -> Iterator[str]:
    yield from _gunicorn(prefix, tmp_path, **ACCOUNTS)


def _simulate(url: str, *args: str, accounts: bool = False) -> subprocess.CompletedProcess[str]:
    keys = (
        ACCOUNTS
        if accounts
        else {
            "GITSLOTPARK_AGENT_ID": "sim-agent",
            "GITSLOTPARK_SECRET_KEY": "sim-secret",
            "IGAMINGACE_API_TOKEN": "sim-token",
            "HUB88_SIMULATOR_KEY": private_pem(key()),
        }
    )
    plain = ("GITSLOTPARK_AGENT_ID", "GITSLOTPARK_SECRET_KEY", "IGAMINGACE_API_TOKEN", "HUB88_PUBLIC_KEY")
    env = {**{k: v for k, v in os.environ.items() if k not in plain}, **keys, "OPERATOR_API_KEY": KEY}
    return subprocess.run(
        [str(BIN / "wallet"), "simulate", "--url", url, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("flavour", "summary"),
    [
        # Skipped: the scenarios of wins that name their bet and of calls carrying a session token (Hub88's).
        ("gitslotpark", "22 passed, 0 failed, 2 skipped"),
        # The single iGamingAce account takes every currency: no foreign player to refuse.
        ("igamingace", "21 passed, 0 failed, 3 skipped"),
        # Hub88 has no bet-win call (two scenarios), and its single account takes every currency.
        ("hub88", "21 passed, 0 failed, 3 skipped"),
    ],
)
def test_suite_passes(service: str, flavour: str, summary: str) -> None:
    """Every conformance scenario passes against gunicorn (the operator API is given)."""
    run = _simulate(service, "--provider", flavour, "--player", f"conf-{flavour}")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().endswith(summary)
    assert "player of another currency" in run.stdout


def test_suite_passes_agent_dialect(agent_service: str) -> None:
    """The agent-style dialect passes the same suite."""
    run = _simulate(agent_service, "--provider", "gitslotpark-agent", "--player", "conf-agent")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "22 passed, 0 failed, 2 skipped" in run.stdout


@pytest.mark.parametrize(
    ("flavour", "account", "currency"),
    [
        ("gitslotpark", "eur", "EUR"),
        ("gitslotpark", "jpy", "JPY"),
        ("igamingace", "eur", "EUR"),
        ("igamingace", "jpy", "JPY"),
        ("igamingace", "btc", "BTC"),
        ("hub88", "eur", "EUR"),
        ("hub88", "jpy", "JPY"),
    ],
)
def test_suite_passes_for_a_named_account(accounts_service: str, flavour: str, account: str, currency: str) -> None:
    """--account: that account's keys, URL and currency (cents, yen, satoshis); its player of another
    currency is refused. (A GitSlotPark account in BTC is refused at start-up: its wire has two
    decimals.)"""
    run = _simulate(accounts_service, "--provider", flavour, "--account", account, accounts=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"account {account} at {accounts_service}, {currency} players" in run.stdout
    skipped = "bet-win" if flavour == "hub88" else "session-token and win-names-its-bet"  # scenarios of others
    assert run.stdout.strip().endswith("22 passed, 0 failed, 2 skipped"), skipped


def test_suite_against_the_wrong_account_fails(accounts_service: str) -> None:
    """The EUR account's keys sent to the BTC account's URL: the suite fails (refused signatures)."""
    env = {**ACCOUNTS, "IGAMINGACE_API_TOKEN_BTC": "token-eur"}
    run = subprocess.run(
        [str(BIN / "wallet"), "simulate", "--url", accounts_service, "--provider", "igamingace", "--account", "btc"],
        env={**os.environ, **env, "OPERATOR_API_KEY": KEY},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1
    assert "FAIL  AssertionError: expected OK, got BAD_SIGN" in run.stdout


def test_unknown_account_is_one_line() -> None:
    """--account that the environment does not define: one line naming it, exit 1, no traceback."""
    run = _simulate("http://127.0.0.1:9", "--account", "gbp", accounts=True)
    assert run.returncode == 1
    assert "--account gbp: not in GITSLOTPARK_ACCOUNTS" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("flavour", ["gitslotpark", "hub88"])
def test_play_conserves_money(service: str, flavour: str) -> None:
    """Two seconds of play with retries, duplicates and rollbacks injected: every balance adds up."""
    run = _simulate(
        service,
        "--provider",
        flavour,
        "--play",
        "--player",
        "play",
        "--players",
        "4",
        "--rate",
        "40",
        "--seconds",
        "2",
        "--retry-rate",
        "0.2",
        "--duplicate-rate",
        "0.2",
        "--rollback-rate",
        "0.2",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "money conserved for all 4 players" in run.stdout
    assert "latency ms p50" in run.stdout


class _Liar(BaseHTTPRequestHandler):
    """A broken wallet: answers every GitSlotPark call with success and a fixed balance."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"result": 0, "message": "OK", "balance": 100.00, "transactionID": "x"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_suite_catches_a_broken_wallet() -> None:
    """Against a wallet that always says OK the suite fails (and exits non-zero), skipping what needs the API."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Liar)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {k: v for k, v in os.environ.items() if k != "OPERATOR_API_KEY"}
        run = subprocess.run(
            [str(BIN / "wallet"), "simulate", "--url", f"http://127.0.0.1:{server.server_port}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert run.returncode == 1
    assert "insufficient funds                          FAIL" in run.stdout
    assert "SKIP  needs the operator API" in run.stdout
